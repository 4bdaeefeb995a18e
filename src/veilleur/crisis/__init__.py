"""Crisis detection, incidents and alerts (docs/detection.md).

The detectors themselves are plain Python in ``veilleur.analysis.detection``; this app
holds what needs Django: the ``veilleur detect`` command for now.
"""
