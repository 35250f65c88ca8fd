# Moving-average trend: hold each index while its close is above its
# 50-day average; equal weight among the indices held (finlab style).
close = data.get("close")
position = close > close.average(50)
sim(position, fee_ratio=0.001)
