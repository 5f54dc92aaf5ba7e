from evals.runner.plots import plot_recall_vs_factor


def test_recall_plot_has_one_panel_per_set(tmp_path):
    recalls = {"truncate": {"hotpotqa": [66.0, 52.0, 27.0], "musique": [85.0, 80.0, 55.0]},
               "condenser": {"hotpotqa": [98.0, 95.0, 84.0], "musique": [90.0, 70.0, 70.0]}}
    path = plot_recall_vs_factor(recalls, [3, 5, 10], tmp_path / "recall.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    width, height = Image.open(path).size
    assert width > 1.8 * height  # two panels side by side
