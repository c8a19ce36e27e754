"""The app's display widgets. Each reads a RunState (or one snapshot event) and never imports torch."""

from tui.widgets.boundary_view import BoundaryView
from tui.widgets.confusion_view import ConfusionView
from tui.widgets.curve_view import CurveView
from tui.widgets.image_grid import ImageGrid
from tui.widgets.layer_norms import LayerNorms
from tui.widgets.log_panel import LogPanel
from tui.widgets.loss_chart import LossChart
from tui.widgets.metric_chart import MetricChart
from tui.widgets.model_view import ModelView
from tui.widgets.overfit_panel import OverfitPanel
from tui.widgets.plan_panel import PlanPanel
from tui.widgets.run_header import RunHeader

__all__ = [
    "BoundaryView",
    "ConfusionView",
    "CurveView",
    "ImageGrid",
    "LayerNorms",
    "LogPanel",
    "LossChart",
    "MetricChart",
    "ModelView",
    "OverfitPanel",
    "PlanPanel",
    "RunHeader",
]
