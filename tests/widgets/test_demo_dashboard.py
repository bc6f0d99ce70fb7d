"""The demo composition (tiles, toolbar, two linked plots) on a synthetic day."""

import numpy as np
from demo_dashboard import build_demo, synthetic_day


def test_demo_composition_shows_the_day(qtbot, tmp_path):
    buffer = synthetic_day(seconds=3 * 3600)
    page = build_demo(buffer)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    power, soc = page.plots
    t, ys = buffer.view()
    # the toolbar chose 24 h: both plots show the same day ending at the newest sample
    assert power.visible_range() == soc.visible_range() == (t[-1] - 86_400, t[-1])
    x, y = power.curve("pv_power_w").getData()
    assert np.nanmax(y) == np.nanmax(ys["pv_power_w"])
    # the grid meter balances PV, battery and load in every sample
    np.testing.assert_allclose(ys["grid_power_w"], ys["load_power_w"] + ys["battery_power_w"] - ys["pv_power_w"],
                               atol=0.05)
    assert np.nanmin(ys["battery_soc_pct"]) >= 10.0 and np.nanmax(ys["battery_soc_pct"]) <= 100.0
    image = page.grab()
    assert image.width() == 1200 and image.height() == 760
