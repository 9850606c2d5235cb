"""The OKR registry: objectives and their key results, per workspace.

Requests must name one of these. OKRs come from a file (`throughline okr import`, validated as a
whole: one bad row and nothing is written; `files` reads and writes CSV and YAML) or one at a time
from `/okr add`; both go through the same row validation (`rows`, then `plan`). `periods` holds the
one grammar of an OKR's period, `links` the one form of its link, `reading` finds OKRs, `edits`
adds and archives them, `command` parses `/okr`.
"""
