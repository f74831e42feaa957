"""time_onnx.py: the A/B timing script reports parity and a ratio for two files."""
from __future__ import annotations

import re

import pytest

import export
import time_onnx


def test_same_file_twice_agrees_exactly(tmp_path, capsys):
    path = tmp_path / "tiny.onnx"
    export.main(["--random", "--variant", "sgenet-tiny", "--out", str(path), "--receptive-field", "32"])
    capsys.readouterr()
    time_onnx.main([str(path), str(path), "--size", "32", "--runs", "2", "--threads", "1"])
    out = capsys.readouterr().out
    assert "max abs output difference 0.00e+00" in out
    assert len(re.findall(r"runs \[\d+, \d+\]", out)) == 2
    assert re.search(r"B/A time ratio \d+\.\d{3}", out)


def test_size_must_be_a_multiple_of_8(tmp_path):
    with pytest.raises(SystemExit):
        time_onnx.main([str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx"), "--size", "30"])
