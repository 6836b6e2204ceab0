"""ROS 2 discovery variables -> Cyclone configuration, as rmw_cyclonedds maps them.

The mapping is checked as text; Cyclone itself parses every fragment (with the loopback
configuration after it, so nothing leaves loopback), and two transports configured by
``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` exchange a message.
"""

from __future__ import annotations

import logging
import os
import threading

import pytest
from cyclonedds.domain import Domain

from topspark_ros.errors import TransportError
from topspark_ros.messages import TimestepCommand
from topspark_ros.ros.dds import DdsTransport, loopback_config
from topspark_ros.ros.dds.discovery import (
    COMPATIBILITY_FRAGMENT,
    DiscoveryOptions,
    DiscoveryRange,
    cyclone_config,
    discovery_fragment,
    discovery_options,
)

DOMAIN = os.getpid() % 40 + 60  # 60..99: apart from the other DDS tests' domains
VARIABLES = (
    "ROS_AUTOMATIC_DISCOVERY_RANGE",
    "ROS_STATIC_PEERS",
    "ROS_LOCALHOST_ONLY",
    "CYCLONEDDS_URI",
)
PARTICIPANT_INDEX = "<ParticipantIndex>auto</ParticipantIndex>"
MAX_INDEX = "<MaxAutoParticipantIndex>32</MaxAutoParticipantIndex>"
NO_MULTICAST = "<General><AllowMulticast>false</AllowMulticast></General>"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No discovery variable from the caller's environment leaks into a test."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _fragment(environ: dict[str, str]) -> str:
    return discovery_fragment(discovery_options(environ), pid=4242)


def test_unset_and_empty_mean_subnet_with_cyclone_defaults() -> None:
    assert discovery_options({}) == DiscoveryOptions(DiscoveryRange.SUBNET, ())
    assert discovery_options({"ROS_AUTOMATIC_DISCOVERY_RANGE": ""}).range is DiscoveryRange.SUBNET
    assert _fragment({}) == ""
    assert cyclone_config({}) == COMPATIBILITY_FRAGMENT


def test_subnet_with_static_peers_adds_them_keeping_multicast() -> None:
    environ = {"ROS_STATIC_PEERS": " 192.168.0.7;;robot.local ; "}
    assert discovery_options(environ).static_peers == ("192.168.0.7", "robot.local")
    assert _fragment(environ) == (
        f"<CycloneDDS><Domain><Discovery>{PARTICIPANT_INDEX}{MAX_INDEX}"
        '<Peers><Peer address="192.168.0.7"/><Peer address="robot.local"/></Peers>'
        "</Discovery></Domain></CycloneDDS>"
    )


def test_localhost_turns_multicast_off_and_adds_localhost_before_the_peers() -> None:
    environ = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_STATIC_PEERS": "10.0.0.2"}
    assert _fragment(environ) == (
        f"<CycloneDDS><Domain>{NO_MULTICAST}<Discovery>{PARTICIPANT_INDEX}{MAX_INDEX}"
        '<Peers><Peer address="localhost"/><Peer address="10.0.0.2"/></Peers>'
        "</Discovery></Domain></CycloneDDS>"
    )


def test_off_ignores_peers_and_tags_the_domain_with_the_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    environ = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "OFF", "ROS_STATIC_PEERS": "10.0.0.2"}
    with caplog.at_level(logging.WARNING):
        options = discovery_options(environ)
    assert options == DiscoveryOptions(DiscoveryRange.OFF, ())
    assert "ROS_AUTOMATIC_DISCOVERY_RANGE=OFF ignores ROS_STATIC_PEERS (10.0.0.2)" in caplog.text
    assert discovery_fragment(options, pid=4242) == (
        f"<CycloneDDS><Domain>{NO_MULTICAST}<Discovery><ParticipantIndex>none</ParticipantIndex>"
        "<Tag>ros_discovery_off_4242</Tag></Discovery></Domain></CycloneDDS>"
    )
    assert f"ros_discovery_off_{os.getpid()}" in discovery_fragment(options)


def test_system_default_leaves_cyclone_alone(caplog: pytest.LogCaptureFixture) -> None:
    environ = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "SYSTEM_DEFAULT", "ROS_STATIC_PEERS": "10.0.0.2"}
    with caplog.at_level(logging.WARNING):
        assert discovery_options(environ) == DiscoveryOptions(DiscoveryRange.SYSTEM_DEFAULT, ())
    assert "ignores ROS_STATIC_PEERS" in caplog.text
    assert _fragment(environ) == ""


@pytest.mark.parametrize("value", ["1", "1yes"])
def test_localhost_only_overrides_range_and_peers(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    environ = {
        "ROS_LOCALHOST_ONLY": value,
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET",
        "ROS_STATIC_PEERS": "10.0.0.2",
    }
    with caplog.at_level(logging.WARNING):
        assert discovery_options(environ) == DiscoveryOptions(DiscoveryRange.LOCALHOST, ())
    assert "ROS_LOCALHOST_ONLY is deprecated" in caplog.text


@pytest.mark.parametrize("value", ["0", "", "true"])
def test_localhost_only_other_values_defer_to_the_range(value: str) -> None:
    environ = {"ROS_LOCALHOST_ONLY": value, "ROS_AUTOMATIC_DISCOVERY_RANGE": "OFF"}
    assert discovery_options(environ).range is DiscoveryRange.OFF


def test_cyclonedds_uri_follows_the_fragment_so_it_wins() -> None:
    environ = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "CYCLONEDDS_URI": "file:///x.xml"}
    config = cyclone_config(environ, pid=1)
    assert config.split(",") == [COMPATIBILITY_FRAGMENT, _fragment(environ), "file:///x.xml"]
    uri_only = cyclone_config({"CYCLONEDDS_URI": "file:///x.xml"})
    assert uri_only == f"{COMPATIBILITY_FRAGMENT},file:///x.xml"


def test_fast_dds_type_information_is_ignored() -> None:
    # Kilted's Fast DDS 3 type objects for types with a sequence are invalid to Cyclone 11
    assert COMPATIBILITY_FRAGMENT == (
        "<CycloneDDS><Domain><Compatibility><IgnoreTypeInformation>1.15</IgnoreTypeInformation>"
        "</Compatibility></Domain></CycloneDDS>"
    )


@pytest.mark.parametrize("value", ["localhost", "subnet ", "LAN"])
def test_unknown_range_is_one_line_error(value: str) -> None:
    with pytest.raises(
        TransportError,
        match=r"ROS_AUTOMATIC_DISCOVERY_RANGE='.*' is not one of "
        r"SUBNET, LOCALHOST, OFF, SYSTEM_DEFAULT$",
    ):
        discovery_options({"ROS_AUTOMATIC_DISCOVERY_RANGE": value})


def test_peers_are_escaped_and_overlong_ones_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        options = discovery_options({"ROS_STATIC_PEERS": 'a"<b>&c;' + "h" * 256 + ";ok"})
    assert options.static_peers == ('a"<b>&c', "ok")
    assert "skipping a peer longer than 255 characters" in caplog.text
    assert "<Peer address='a\"&lt;b&gt;&amp;c'/>" in discovery_fragment(options)


@pytest.mark.parametrize(
    "environ",
    [
        {"ROS_STATIC_PEERS": "127.0.0.1"},
        {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_STATIC_PEERS": "127.0.0.2"},
        {"ROS_AUTOMATIC_DISCOVERY_RANGE": "OFF"},
    ],
)
def test_cyclone_accepts_every_fragment(environ: dict[str, str]) -> None:
    # the loopback configuration after the fragment keeps the domain on loopback
    config = cyclone_config({**environ, "CYCLONEDDS_URI": loopback_config()})
    domain = Domain(DOMAIN + 100, config)
    domain.__del__()  # the binding has no public delete


@pytest.fixture
def localhost_range(monkeypatch: pytest.MonkeyPatch) -> None:
    """ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, with DDS on loopback only."""
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    monkeypatch.setenv("CYCLONEDDS_URI", loopback_config())


@pytest.mark.usefixtures("localhost_range")
def test_transports_configured_by_the_range_exchange_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    got: list[TimestepCommand] = []
    arrived = threading.Event()

    def keep(command: TimestepCommand) -> None:
        got.append(command)
        arrived.set()

    with DdsTransport(DOMAIN) as one, DdsTransport(DOMAIN) as two:
        two.subscribe("timestep_command", TimestepCommand, keep, "latched")
        publisher = one.publisher("timestep_command", TimestepCommand, "latched")
        publisher.publish(TimestepCommand(1, 40, 20, 1, "saving", 0.4, 0.5, 40.0, 0.9, 10.0, 1.0))
        assert arrived.wait(10.0)
        monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "OFF")
        with pytest.raises(
            TransportError,
            match=f"DDS domain {DOMAIN} is already in use in "
            "this process with other discovery settings",
        ):
            DdsTransport(DOMAIN)
    assert [command.timesteps for command in got] == [40]
    with DdsTransport(DOMAIN):  # the last transport deleted the domain: OFF configures it anew
        pass


def test_transport_refuses_an_unknown_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "NOWHERE")
    with pytest.raises(TransportError, match="ROS_AUTOMATIC_DISCOVERY_RANGE='NOWHERE'"):
        DdsTransport(DOMAIN + 1)
