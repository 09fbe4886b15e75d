// The script: it must exist for `script`, which has spaces, to name a file.
