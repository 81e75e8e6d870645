"""reactive-server: Tornado app hosting reactive kernels, notebooks and the web UI."""
