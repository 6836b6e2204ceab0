"""ROS 2 discovery settings from the environment, as Cyclone DDS configuration (as rmw_cyclonedds).

ROS 2 (rcl) reads ``ROS_AUTOMATIC_DISCOVERY_RANGE`` (SUBNET when unset or empty, LOCALHOST, OFF,
SYSTEM_DEFAULT), ``ROS_STATIC_PEERS`` (addresses separated by ``;``) and the deprecated
``ROS_LOCALHOST_ONLY`` (a value starting with ``1`` means LOCALHOST and no static peers, whatever
the other two say). rmw_cyclonedds turns the result into a configuration fragment for the domain,
followed by ``CYCLONEDDS_URI``, so that a user's own Cyclone configuration wins where both set
something:

| range | multicast | peers | participant index |
|---|---|---|---|
| SUBNET | Cyclone's default | ``ROS_STATIC_PEERS`` | auto, 32 per host (only with peers) |
| LOCALHOST | off | ``localhost`` + ``ROS_STATIC_PEERS`` | auto, 32 per host |
| OFF | off | none (``ROS_STATIC_PEERS`` ignored) | none, plus a domain tag unique to the process |
| SYSTEM_DEFAULT | Cyclone's default | none (``ROS_STATIC_PEERS`` ignored) | Cyclone's default |

SUBNET without peers and SYSTEM_DEFAULT add nothing to Cyclone's defaults.

Before both comes ``COMPATIBILITY_FRAGMENT``: Cyclone ignores the XTypes type information of
eProsima's Fast DDS (vendor 1.15) and matches by type name, as the ROS 2 type names are unique.
Without it, Cyclone 11 rejects Fast DDS 3's (ROS 2 Kilted) type objects for every type holding a
sequence ("ddsi_xt_type_init_impl with invalid type object") and those topics never match.

rcl only warns about an unknown range and assumes LOCALHOST; we refuse it with a TransportError
instead, so a typo cannot silently change who we talk to.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from xml.sax.saxutils import quoteattr

from topspark_ros.errors import TransportError

LOG = logging.getLogger(__name__)
RANGE_VARIABLE = "ROS_AUTOMATIC_DISCOVERY_RANGE"
PEERS_VARIABLE = "ROS_STATIC_PEERS"
LOCALHOST_ONLY_VARIABLE = "ROS_LOCALHOST_ONLY"
URI_VARIABLE = "CYCLONEDDS_URI"
MAX_PEER_LENGTH = 255  # RMW_DISCOVERY_OPTIONS_STATIC_PEERS_MAX_LENGTH - 1; longer ones are skipped
MAX_AUTO_PARTICIPANT_INDEX = 32  # what rmw_cyclonedds sets: participants probed per host
FASTDDS_VENDOR_ID = "1.15"  # eProsima's RTPS vendor id
COMPATIBILITY_FRAGMENT = (
    "<CycloneDDS><Domain><Compatibility>"
    f"<IgnoreTypeInformation>{FASTDDS_VENDOR_ID}</IgnoreTypeInformation>"
    "</Compatibility></Domain></CycloneDDS>"
)


class DiscoveryRange(Enum):
    """How far automatic discovery reaches (``ROS_AUTOMATIC_DISCOVERY_RANGE``)."""

    SUBNET = "SUBNET"
    LOCALHOST = "LOCALHOST"
    OFF = "OFF"
    SYSTEM_DEFAULT = "SYSTEM_DEFAULT"


@dataclass(frozen=True)
class DiscoveryOptions:
    """ROS 2 discovery options: the automatic range and the static peers (host names or IPs)."""

    range: DiscoveryRange = DiscoveryRange.SUBNET
    static_peers: tuple[str, ...] = ()


def discovery_options(environ: Mapping[str, str] | None = None) -> DiscoveryOptions:
    """The discovery options ROS 2 reads from ``environ`` (default: this process's environment).

    TransportError for an unknown range; peers ignored by the range are dropped with a warning.
    """
    environ = os.environ if environ is None else environ
    localhost_only = environ.get(LOCALHOST_ONLY_VARIABLE, "")
    if localhost_only.startswith("1"):
        LOG.warning(
            "%s is deprecated: it overrides %s and %s; use those instead",
            LOCALHOST_ONLY_VARIABLE,
            RANGE_VARIABLE,
            PEERS_VARIABLE,
        )
        return DiscoveryOptions(DiscoveryRange.LOCALHOST)
    discovery_range = _range(environ.get(RANGE_VARIABLE, ""))
    peers = _peers(environ.get(PEERS_VARIABLE, ""))
    if peers and discovery_range in (DiscoveryRange.OFF, DiscoveryRange.SYSTEM_DEFAULT):
        LOG.warning(
            "%s=%s ignores %s (%s)",
            RANGE_VARIABLE,
            discovery_range.value,
            PEERS_VARIABLE,
            ";".join(peers),
        )
        peers = ()
    return DiscoveryOptions(discovery_range, peers)


def discovery_fragment(options: DiscoveryOptions, pid: int | None = None) -> str:
    """The Cyclone XML fragment for ``options`` ('' when Cyclone's defaults apply); ``pid``
    (default: this process) makes the OFF range's domain tag private to one process."""
    peers = options.static_peers
    if options.range is DiscoveryRange.SYSTEM_DEFAULT or (
        options.range is DiscoveryRange.SUBNET and not peers
    ):
        return ""
    parts = ["<CycloneDDS><Domain>"]
    if options.range in (DiscoveryRange.LOCALHOST, DiscoveryRange.OFF):
        parts.append("<General><AllowMulticast>false</AllowMulticast></General>")
    if options.range is DiscoveryRange.OFF:
        tag = f"ros_discovery_off_{os.getpid() if pid is None else pid}"
        parts.append(f"<Discovery><ParticipantIndex>none</ParticipantIndex><Tag>{tag}</Tag>")
    else:
        parts.append("<Discovery><ParticipantIndex>auto</ParticipantIndex>")
        parts.append(
            f"<MaxAutoParticipantIndex>{MAX_AUTO_PARTICIPANT_INDEX}</MaxAutoParticipantIndex>"
        )
        if options.range is DiscoveryRange.LOCALHOST:
            peers = ("localhost", *peers)
        parts.append("<Peers>")
        parts.extend(f"<Peer address={quoteattr(peer)}/>" for peer in peers)
        parts.append("</Peers>")
    parts.append("</Discovery></Domain></CycloneDDS>")
    return "".join(parts)


def cyclone_config(environ: Mapping[str, str] | None = None, pid: int | None = None) -> str:
    """The Cyclone configuration of a domain, comma-separated: the Fast DDS compatibility fragment,
    the discovery fragment of ROS 2's variables, ``CYCLONEDDS_URI`` (later settings win)."""
    environ = os.environ if environ is None else environ
    fragment = discovery_fragment(discovery_options(environ), pid)
    uri = environ.get(URI_VARIABLE, "")
    return ",".join(part for part in (COMPATIBILITY_FRAGMENT, fragment, uri) if part)


def _range(text: str) -> DiscoveryRange:
    """The range named by ``text`` (SUBNET when empty); TransportError when unknown."""
    if not text:
        return DiscoveryRange.SUBNET
    try:
        return DiscoveryRange(text)
    except ValueError:
        names = ", ".join(member.value for member in DiscoveryRange)
        raise TransportError(f"{RANGE_VARIABLE}={text!r} is not one of {names}") from None


def _peers(text: str) -> tuple[str, ...]:
    """The static peers in ``text`` (``;``-separated, blanks dropped, too long ones skipped)."""
    peers = []
    for peer in (part.strip() for part in text.split(";")):
        if len(peer) > MAX_PEER_LENGTH:
            LOG.warning(
                "%s: skipping a peer longer than %d characters", PEERS_VARIABLE, MAX_PEER_LENGTH
            )
        elif peer:
            peers.append(peer)
    return tuple(peers)


__all__ = [
    "COMPATIBILITY_FRAGMENT",
    "DiscoveryOptions",
    "DiscoveryRange",
    "cyclone_config",
    "discovery_fragment",
    "discovery_options",
]
