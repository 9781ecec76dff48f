"""`slogen import` and `slogen export`: other tools' SLO formats to and from slogen specs.

Each format is one module with `convert(docs, options) -> Imported` (read.py reads the
files, write.py renders and writes the specs); see common.py for what they share.
"""
