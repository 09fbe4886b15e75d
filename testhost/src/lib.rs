//! A real systemd booted as PID 1 in private namespaces over an overlay of `/`.
