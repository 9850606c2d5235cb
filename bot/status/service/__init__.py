"""Answers to "where is this?": my initiatives and the lists of the Home (`lists`), a search
(`lists.search`), an OKR's roll-up (`okr`), a status card (`card`).

Every answer is built from a fixed number of statements, whatever the number of initiatives:
lists are read a page at a time with their total (`count(*) OVER ()`), never row by row.
"""
