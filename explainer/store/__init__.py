"""The run store: runs and derived results as files, one lock per key, shared by every process."""
