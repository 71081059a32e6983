"""What a reader sees: words for the codes, the question's code and logs, the charts."""
