"""`make demo`: the whole main path on the embedded defaults, with outside services recorded."""
