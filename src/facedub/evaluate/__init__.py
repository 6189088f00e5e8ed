"""evaluate: how good is a face swap? Identity (is it the source person?), pose,
expression and gaze (still the target's?), temporal stability and seams, per frame and
per head-turn bin, for any output video or photo, from facedub or another tool.

    report = evaluate(source, target, swapped, out_dir, EvalConfig())
    print("\\n".join(report.summary_lines()))
"""

from facedub.evaluate.config import YAW_BINS, EvalConfig
from facedub.evaluate.metrics import METRICS, FrameMetrics
from facedub.evaluate.run import Report, evaluate, read_report
from facedub.evaluate.summary import Summary

__all__ = ["METRICS", "YAW_BINS", "EvalConfig", "FrameMetrics", "Report", "Summary",
           "evaluate", "read_report"]
