"""The record and getting it out: the history's hash chain checked (`throughline audit verify`),
and everything exported, one file per kind (`throughline export`, the App Home's *Export data*)."""
