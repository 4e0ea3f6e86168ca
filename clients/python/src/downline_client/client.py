"""One channel to a downline server with a stub per service and credentials on every call."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Callable, Optional, Type

import grpc

from downline.v1 import compensation_pb2_grpc, genealogy_pb2_grpc, operations_pb2_grpc, team_pb2_grpc, volume_pb2_grpc
from downline.v1 import simulation_pb2_grpc


class _Bearer(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds ``authorization: Bearer <token>`` (an API key or a JWT) to every call."""

    def __init__(self, token: str) -> None:
        if not token or any(c.isspace() for c in token):
            raise ValueError("token: an API key or a JWT, non-empty and without spaces")
        self._metadata = ("authorization", f"Bearer {token}")

    def _with_token(self, details: Any) -> Any:
        metadata = list(details.metadata or []) + [self._metadata]
        return details._replace(metadata=metadata)

    def intercept_unary_unary(self, continuation: Callable, details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation: Callable, details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation: Callable, details: Any, requests: Any) -> Any:
        return continuation(self._with_token(details), requests)

    def intercept_stream_stream(self, continuation: Callable, details: Any, requests: Any) -> Any:
        return continuation(self._with_token(details), requests)


class Client:
    """A stub per downline service on one channel.

    Attributes: ``genealogy``, ``volumes``, ``compensation``, ``team`` and
    ``operations``, each the generated stub of that service. Use it as a
    context manager, or call :meth:`close`.
    """

    def __init__(self, channel: grpc.Channel, token: Optional[str] = None) -> None:
        self._raw_channel = channel
        if token is not None:
            channel = grpc.intercept_channel(channel, _Bearer(token))
        self.channel = channel
        self.genealogy = genealogy_pb2_grpc.GenealogyServiceStub(channel)
        self.volumes = volume_pb2_grpc.VolumeServiceStub(channel)
        self.compensation = compensation_pb2_grpc.CompensationServiceStub(channel)
        self.team = team_pb2_grpc.TeamServiceStub(channel)
        self.operations = operations_pb2_grpc.OperationsServiceStub(channel)
        self.simulations = simulation_pb2_grpc.SimulationServiceStub(channel)

    def close(self) -> None:
        """Closes the channel; calls in progress are cancelled."""
        self._raw_channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        kind: Optional[Type[BaseException]],
        error: Optional[BaseException],
        trace: Optional[TracebackType],
    ) -> None:
        self.close()


def connect(
    target: str,
    token: Optional[str] = None,
    *,
    root_certificates: Optional[bytes] = None,
    ready_timeout_s: float = 10.0,
) -> Client:
    """Connects to the server at ``target`` (``host:port``) and waits until the channel is ready.

    ``token`` is an API key or a JWT, sent as ``authorization: Bearer <token>``
    (leave it out for a server in dev mode). With ``root_certificates`` (PEM
    bytes) the channel uses TLS; without, plain text (loopback only, as the
    server's dev mode).
    """
    if root_certificates is None:
        channel = grpc.insecure_channel(target)
    else:
        channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates))
    grpc.channel_ready_future(channel).result(timeout=ready_timeout_s)
    return Client(channel, token)
