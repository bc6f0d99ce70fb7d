"""Reusable Qt widgets that show plain data (no Modbus, no storage); GUI thread only.

ring_buffer  RingBuffer (a day of samples at 1 Hz) and the plot helpers
             peak_decimate, PeakEnvelope, break_gaps
time_plot    TimePlot: live plot with follow/pause, crosshair readout, CSV/PNG export
plot_toolbar PlotToolbar: follow, time window, reset zoom and exports for a group of plots
value_tile   ValueTile: one live value with unit, subtitle, stale and warning states
theme        series colours and palette helpers (light and dark)
"""
