"""The op functions by topic; each module also registers its Tensor methods."""
