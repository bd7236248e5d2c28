"""The scanning engine: discovery, pre-filtering, parsing, running rules and writing files."""
