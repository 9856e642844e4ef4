"""The labeling widgets."""

from labwidget.widgets._preload import preload

preload()
