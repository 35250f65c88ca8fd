# Momentum rotation: every 20 days, hold the two indices with the best
# 60-day return.  Rebalance dates only; the backtest carries each row
# forward until the next one.
close = data.get("close")
momentum = close / close.shift(60) - 1
rebalance = momentum.iloc[60::20]
position = rebalance.is_largest(2)
sim(position, fee_ratio=0.001)
