"""The generated kernels of ``gait/trajectory/_rts.py`` are what ``tools/gen_rts_kernel.py`` writes.

The check runs in-process: the generator's text for each marked region, formatted by ``ruff format``
exactly as the tool formats it, against the file's region. Beside it: the tool names the stale region
and restores it, keeps everything outside the regions, refuses a file without markers, and the blocks
it writes equal the matrix products they stand for (``F P Fᵀ + Q``, the Kalman update, the adjoint
step) on random well-conditioned matrices. The kernel as a whole is checked against the matrix-form
filter and smoother in ``test_gait_trajectory_speed.py``.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_rts_kernel", REPO / "tools" / "gen_rts_kernel.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _load_tool()
VARIANTS: dict[str, tuple[int, ...]] = GEN.VARIANTS


def test_the_generated_regions_are_up_to_date() -> None:
    text = GEN.TARGET.read_text(encoding="utf-8")
    new, changed = GEN.regenerate(text, GEN.TARGET)
    assert changed == [], f"run python tools/gen_rts_kernel.py: {changed} differ from the generator"
    assert new == text
    assert GEN.main(["--check"]) == 0


def test_check_names_the_stale_region_and_a_rewrite_restores_only_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = GEN.TARGET.read_text(encoding="utf-8")
    a, b = GEN._span(original, "_rts_chunk_free", GEN.TARGET)
    region = original[a:b]
    stale = region.replace("n00 = t00 +", "n00 = 0.5 * t00 +", 1)
    assert stale != region
    outside = "\n# a hand-written comment outside the regions\n"
    path = tmp_path / "_rts.py"
    path.write_text(original[:a] + stale + original[b:] + outside, encoding="utf-8")

    assert GEN.main(["--check", "--file", str(path)]) == 1
    out = capsys.readouterr().out
    assert "_rts_chunk_free is out of date" in out and "_rts_chunk_level" not in out

    assert GEN.main(["--file", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == original + outside
    assert GEN.main(["--check", "--file", str(path)]) == 0


def test_a_file_without_markers_is_refused(tmp_path: Path) -> None:
    text = GEN.TARGET.read_text(encoding="utf-8")
    path = tmp_path / "_rts.py"
    path.write_text(text.replace(GEN.END.format(name="_rts_chunk_level"), "# end"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"_rts\.py: no single region marked .*_rts_chunk_level"):
        GEN.main(["--check", "--file", str(path)])


# ----------------------------------------------------------------- the written blocks are the matrix products
def _spd(rng: np.random.Generator, n: int) -> np.ndarray[Any, Any]:
    a = rng.normal(size=(n, n))
    return np.asarray(a @ a.T + n * np.eye(n))


def _scalars(prefix: str, mat: np.ndarray[Any, Any]) -> dict[str, float]:
    n = mat.shape[0]
    return {f"{prefix}{i}{j}": float(mat[i, j]) for i in range(n) for j in range(i, n)}


def _matrix(prefix: str, env: dict[str, Any], n: int) -> np.ndarray[Any, Any]:
    return np.array([[env[f"{prefix}{min(i, j)}{max(i, j)}"] for j in range(n)] for i in range(n)])


def _run(lines: list[str], env: dict[str, Any]) -> dict[str, Any]:
    exec("\n".join(lines), {"math": math}, env)  # the generator's own output, nothing else
    return env


def test_forward_block_is_f_p_ft_plus_q() -> None:
    rng = np.random.default_rng(15)
    p = _spd(rng, 9)
    sx, sy, sz, dt, qv, qt = 0.3, -0.2, 9.9, 0.005, 1e-4, 2e-6
    f = np.eye(9)
    f[:3, 3:6] = [[0, sz, -sy], [-sz, 0, sx], [sy, -sx, 0]]
    f[6, 2] = f[7, 0] = f[8, 1] = dt
    q = np.diag([qv] * 3 + [qt] * 3 + [0.0] * 3)
    env = _run(
        GEN.forward(), {**_scalars("p", p), "sx": sx, "sy": sy, "sz": sz, "dt": dt, "qv": qv, "qt": qt}
    )
    np.testing.assert_allclose(
        _matrix("p", env, 9), f @ p @ f.T + q, rtol=1e-12, atol=1e-12 * np.abs(p).max()
    )


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_update_and_adjoint_blocks_are_the_kalman_equations(name: str) -> None:
    h = list(VARIANTS[name])
    m = len(h)
    rng = np.random.default_rng(20 + m)
    p = _spd(rng, 9)
    x = rng.normal(size=9)
    vel, pos = rng.normal(size=(1, 3)), rng.normal(size=(1, 3))
    rv, rz = 0.3, 0.7
    hm = np.eye(9)[h]
    r = np.diag([rv, rv, rv, rz][:m])
    z = np.array([vel[0, 0], vel[0, 1], vel[0, 2], pos[0, 2]][:m])

    ls = np.zeros((1, m * (m - 1) // 2 + 2 * m))
    env: dict[str, Any] = {**_scalars("p", p), **{f"x{k}": float(x[k]) for k in range(9)}}
    env.update(vel=vel, pos=pos, i=-1, rv=rv, rz=rz, ls=ls)
    _run(GEN.nu_lines(tuple(h)) + GEN.update(tuple(h)) + GEN.store_l("ls", "0", m), env)

    s = hm @ p @ hm.T + r
    k = p @ hm.T @ np.linalg.inv(s)
    nu = z - hm @ x
    scale = np.abs(p).max()
    np.testing.assert_allclose(_matrix("p", env, 9), (np.eye(9) - k @ hm) @ p, atol=1e-12 * scale)
    np.testing.assert_allclose([env[f"x{j}"] for j in range(7)], (x + k @ nu)[:7], atol=1e-12 * scale)

    # the adjoint step with the stored L and ν: r = (I - K H)ᵀ u + Hᵀ S⁻¹ ν on the 7 smoothed states
    u = rng.normal(size=7)
    benv = _run(
        GEN.backward_update("ls", "k", tuple(h)) + GEN.backward_mult(),
        {
            **_scalars("c", p[:7, :7]),
            **{f"u{j}": float(u[j]) for j in range(7)},
            "ls": ls,
            "k": 0,
            "rv": rv,
            "rz": rz,
        },
    )
    h7, k7 = hm[:, :7], k[:7]
    adjoint = (np.eye(7) - k7 @ h7).T @ u + h7.T @ np.linalg.solve(s, nu)
    got = np.array([benv[f"u{j}"] for j in range(7)])
    np.testing.assert_allclose(got, adjoint, atol=1e-12 * np.abs(adjoint).max())
    np.testing.assert_allclose([benv[f"w{j}"] for j in range(7)], p[:7, :7] @ got, atol=1e-12 * scale)
