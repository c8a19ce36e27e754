"""The app's display widgets. Each reads a RunState (or one snapshot event) and never imports torch.

Imported lazily (PEP 562): the set-up screen's first frame needs only the plan panel, not the
charts and their plotting library.
"""

from importlib import import_module

_MODULES = {
    "BoundaryView": "boundary_view",
    "CompareChart": "compare_chart",
    "ConfusionView": "confusion_view",
    "CurveView": "curve_view",
    "Footer": "footer",
    "ImageGrid": "image_grid",
    "LayerNorms": "layer_norms",
    "LogPanel": "log_panel",
    "LossChart": "loss_chart",
    "MetricChart": "metric_chart",
    "ModelView": "model_view",
    "OverfitPanel": "overfit_panel",
    "PlanPanel": "plan_panel",
    "RunHeader": "run_header",
}

__all__ = list(_MODULES)


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f"module 'nnplay.tui.widgets' has no attribute {name!r}")
    return getattr(import_module(f"nnplay.tui.widgets.{_MODULES[name]}"), name)
