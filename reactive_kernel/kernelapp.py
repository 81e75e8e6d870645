"""The kernel application: IPKernelApp with the routing session."""

from __future__ import annotations

from ipykernel.kernelapp import IPKernelApp
from jupyter_client.session import Session
from traitlets import Type, default

from .kernel import ReactiveKernel
from .session import RoutingSession


class ReactiveKernelApp(IPKernelApp):
    """Starts :class:`ReactiveKernel` with a :class:`RoutingSession`."""

    name = "reactive-kernel"
    kernel_class = Type(ReactiveKernel, klass="ipykernel.kernelbase.Kernel").tag(config=True)

    @default("session")
    def _default_session(self) -> Session:
        return RoutingSession(parent=self)
