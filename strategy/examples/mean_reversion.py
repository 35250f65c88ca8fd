# Mean reversion: buy an index when it closes more than 1.5 standard
# deviations below its 20-day mean, hold it until it is back above the mean.
import numpy as np

close = data.get("close")
mean = close.average(20)
z = (close - mean) / close.rolling(20).std()

entry = z < -1.5
exit_ = z > 0
state = np.where(entry, 1.0, np.where(exit_, 0.0, np.nan))
position = pd.DataFrame(state, index=close.index, columns=close.columns)
position = position.ffill().fillna(0.0)
position = position.div(len(close.columns))
