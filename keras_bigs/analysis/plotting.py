"""Matplotlib set-up shared by the analysis figures: files only, no display."""


def pyplot():
    """`matplotlib.pyplot` on the Agg backend (PNG files, no display
    needed, as on servers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path):
    """Write `figure` as a PNG at `path` and free it."""
    figure.savefig(path, dpi=120, bbox_inches="tight")
    pyplot().close(figure)
