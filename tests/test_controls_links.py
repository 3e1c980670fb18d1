"""A hand-edited link with a value a control cannot take is reported next to the control, never silently dropped."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def _controls() -> None:
    from ui import controls

    controls.slider("Points", 10, 500, 60, step=10, key="t_n")
    controls.select_slider("Noise", [0.03, 0.08, 0.2], 0.08, key="t_noise")
    controls.select("Estimator", ["adaptive", "kde"], "adaptive", key="t_est", format_func=str.upper)
    controls.radio("Cost", ["euclidean", "sqeuclidean"], "euclidean", key="t_cost")
    controls.multiselect("Nets", ["tanh", "relu", "linear"], ["tanh", "relu"], key="t_nets")
    controls.toggle("Linear", False, key="t_lin")
    controls.number("Steps", 1, 100, 10, key="t_steps")
    controls.seed(key="t_seed")


def _open(params: dict[str, str | list[str]]) -> AppTest:
    at = AppTest.from_function(_controls, default_timeout=30)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


GOOD = {"t_n": "120", "t_noise": "0.2", "t_est": "KDE", "t_cost": "sqeuclidean", "t_nets": ["relu", "linear"],
        "t_lin": "true", "t_steps": "7", "t_seed": "3"}  # fmt: skip


def test_a_valid_link_sets_every_control_and_says_nothing() -> None:
    at = _open(GOOD)
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert at.slider(key="t_n").value == 120 and at.toggle(key="t_lin").value is True
    assert at.selectbox(key="t_est").value == "kde" and at.multiselect(key="t_nets").value == ["relu", "linear"]
    assert at.number_input(key="t_seed").value == 3


@pytest.mark.parametrize(
    ("key", "bad", "shown"),
    [
        ("t_n", "abc", "60"),
        ("t_n", "9999", "60"),
        ("t_noise", "0.5", "0.08"),
        ("t_est", "nearest", "ADAPTIVE"),
        ("t_cost", "manhattan", "euclidean"),
        ("t_lin", "maybe", "False"),
        ("t_steps", "1e9", "10"),
        ("t_seed", "-4", "0"),
    ],
)
def test_a_value_the_control_cannot_take_is_reported_with_what_it_shows(key: str, bad: str, shown: str) -> None:
    at = _open({**GOOD, key: bad})
    assert not at.exception
    messages = [w.value for w in at.warning]
    assert len(messages) == 1, messages  # only the bad one: the other link values were taken
    assert f"`{key}={bad}`" in messages[0] and f"it shows {shown}." in messages[0]


def test_the_report_stays_through_reruns_until_the_user_moves_the_control() -> None:
    at = _open({"t_n": "abc"})
    assert len(at.warning) == 1
    at.run()  # e.g. the router's first rerun, or another control's change
    assert len(at.warning) == 1 and "`t_n=abc`" in at.warning[0].value
    at.slider(key="t_n").set_value(200).run()
    assert not at.warning and at.slider(key="t_n").value == 200
    at.slider(key="t_n").set_value(60).run()  # back at the old fallback: the link's message is not raised again
    assert not at.warning
