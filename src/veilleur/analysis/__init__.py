"""Pure-Python analysis: text normalisation, matching, and later NLP and detection.

Nothing here imports Django; every function takes data and returns data, and time
is always an argument.
"""
