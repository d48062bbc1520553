"""The data of fugong: models, spatial queries, coordinate systems and domain rules."""
