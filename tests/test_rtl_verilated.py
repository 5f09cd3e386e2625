"""The RTL array Verilated (2 x 2 PEs) and run: awkward GEMMs, a real circuit against
Cirq, and the board_time cycle model against the simulated cycles. Every flush of the
rtl backend also compares the RTL's card memory word for word with the bit-exact model
(a mismatch raises), so each test here checks RTL == model as well."""

import cirq
import numpy as np
import pytest

import qtn
from qtn.backends.rtl import RTLBackend
from qtn.fpga import board_time, formats


@pytest.fixture(scope="module")
def rtl():
    return qtn.get_backend("rtl")


def _rand(rng, shape):
    return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(np.complex128)


# (batch, m, k, n): 1x1x1, k = 1, tiles +- 1 around the 2 x 2 array, batched, long k
AWKWARD = [(1, 1, 1, 1), (1, 4, 1, 4), (1, 3, 2, 1), (1, 1, 5, 3), (1, 2, 2, 2), (1, 3, 3, 3),
           (4, 1, 2, 3), (3, 5, 1, 2), (2, 3, 17, 5), (1, 16, 64, 4)]


@pytest.mark.parametrize("shape", AWKWARD)
def test_awkward_gemms_bit_exact_and_within_stated_error(rtl, shape):
    batch, m, k, n = shape
    rng = np.random.default_rng(m * 100 + k * 10 + n + batch)
    a, b = _rand(rng, (batch, m, k)), _rand(rng, (batch, k, n))
    if batch == 1:
        a, b = a[0], b[0]
    rtl.reset_stats()
    c = rtl.to_host(rtl.matmul(rtl.to_device(a), rtl.to_device(b)))
    exact = a @ b
    assert c.shape == exact.shape
    assert np.all(np.abs(c - exact) <= formats.gemm_error_bound(rtl.fmt, a, b))
    st = rtl.stats()
    assert st["gemms"] == 1 and len(st["gemm_cycles"]) == 1 and st["cycles"] > 0
    assert st["macs"] == batch * m * k * n
    descs, run = rtl.last_run
    model = board_time.rtl_cycles(descs, rtl.config.pe_m, rtl.config.pe_n, rtl.config.lanes)
    assert abs(model.gemm_cycles[0] - st["gemm_cycles"][0]) <= 0.10 * st["gemm_cycles"][0]


def test_transposed_operands_permute_on_the_card(rtl):
    rng = np.random.default_rng(3)
    x, y = _rand(rng, (2, 3, 4)), _rand(rng, (4, 2, 5))
    a = rtl.transpose_reshape(rtl.to_device(x), (1, 0, 2), (3, 8))   # (3, 2*4)
    b = rtl.transpose_reshape(rtl.to_device(y), (1, 0, 2), (8, 5))   # (2*4, 5)
    c = rtl.to_host(rtl.matmul(a, b))
    xa, yb = x.transpose(1, 0, 2).reshape(3, 8), y.transpose(1, 0, 2).reshape(8, 5)
    assert np.all(np.abs(c - xa @ yb) <= formats.gemm_error_bound(rtl.fmt, xa, yb))
    out = rtl.to_host(rtl.transpose_reshape(rtl.to_device(x), (2, 0, 1), (4, 2, 3)))
    np.testing.assert_allclose(out, x.transpose(2, 0, 1), rtol=1e-5)


def test_bad_shapes_are_refused(rtl):
    a = rtl.to_device(np.ones((2, 3), np.complex64))
    with pytest.raises(ValueError, match="matmul"):
        rtl.matmul(a, rtl.to_device(np.ones((4, 2), np.complex64)))
    with pytest.raises(ValueError, match="transpose_reshape"):
        rtl.transpose_reshape(a, (0, 0), (6,))
    with pytest.raises(TypeError, match="numeric"):
        rtl.to_device(np.array(["x"]))


def test_ten_qubit_circuit_matches_cirq_and_cycle_model():
    rtl = RTLBackend()
    qubits = cirq.LineQubit.range(10)
    circuit = cirq.testing.random_circuit(qubits, n_moments=10, op_density=0.9, random_state=11)
    want = cirq.final_state_vector(circuit, qubit_order=qubits)
    bits = [0, 1, 513, 1023] + list(np.random.default_rng(0).integers(0, 1024, 4))
    got = qtn.amplitudes(circuit, bitstrings=bits, qubit_order=qubits, backend=rtl, dtype=np.complex128)
    np.testing.assert_allclose(got, want[bits], atol=1e-4 * np.abs(want).max())
    st = rtl.stats()
    assert st["gemms"] >= 10 and st["bytes_to_device"] > 0 and st["card_bytes_written"] > 0
    descs, run = rtl.last_run
    model = board_time.rtl_cycles(descs, 2, 2)
    assert abs(model.cycles - run.cycles) <= 0.05 * run.cycles
    gemm_tags = [i for i, d in enumerate(descs) if type(d).__name__ == "GemmDesc"]
    sim = np.diff([0] + [int(run.done[t]) for t in gemm_tags])
    assert np.all(np.abs(np.array(model.gemm_cycles) - sim) <= 0.10 * sim)


def test_ghz_and_qft_through_registry_name():
    q = cirq.LineQubit.range(6)
    ghz = cirq.Circuit(cirq.H(q[0]), [cirq.CNOT(q[i], q[i + 1]) for i in range(5)])
    amps = qtn.amplitudes(ghz, bitstrings=[0, 63, 5], backend="rtl")
    np.testing.assert_allclose(amps, [2**-0.5, 2**-0.5, 0], atol=1e-5)
    qft = cirq.Circuit(cirq.X(q[1]), cirq.qft(*q))
    want = cirq.final_state_vector(qft, qubit_order=q)
    np.testing.assert_allclose(qtn.state_vector(qft, backend="rtl"), want, atol=1e-5)


def test_exponent_memory_refill_between_gemms_keeps_results_exact():
    # 10 exponent words: the first GEMM takes 2 (rows of A, columns of B), the second
    # needs 1 + 9 more, so it must start a new fill before its A operand; a refill
    # between A and B would put B's exponents over A's (word 2), which its GEMM reads
    from qtn.backends.rtl import RTLBackend

    small = RTLBackend(xmem_words=10)
    rng = np.random.default_rng(7)
    # A far larger than B, so that reading B's block exponent for A's row would show
    pairs = [(_rand(rng, (1, 3)), _rand(rng, (3, 1))), (2.0**20 * _rand(rng, (1, 3)), _rand(rng, (3, 9)))]
    outs = [small.matmul(small.to_device(a), small.to_device(b)) for a, b in pairs]
    for (a, b), c in zip(pairs, outs):
        assert np.all(np.abs(small.to_host(c) - a @ b) <= formats.gemm_error_bound(small.fmt, a, b))


def test_wide_permute_bank_conflicts_priced_exactly():
    # 2 lanes over 2 word-interleaved banks: a contiguous copy moves 2 words a cycle,
    # an even stride puts both lanes of every chunk in one bank (1 word a cycle)
    from qtn.fpga.card_model import CardModel
    from qtn.fpga.descriptors import PermuteDesc
    from qtn.fpga.rtl_sim import ArrayConfig, VerilatedCard

    cfg = ArrayConfig()
    assert cfg.lanes == 2
    card, model = VerilatedCard(cfg, 512, 64), CardModel(cfg.fmt, 512, 64)
    words = formats.encode(cfg.fmt, _rand(np.random.default_rng(5), 256)).ravel()
    card.mem[:256] = model.mem[:256] = words
    cases = [((24,), (1,), 4), ((24,), (2,), 3), ((3, 5), (1, 3), 5), ((2, 3, 2), (6, 1, 3), 1), ((7,), (3,), 7)]
    for sizes, strides, group in cases:
        d = PermuteDesc(0, False, 1, 300, 10, group, sizes, strides)
        res = card.run([d])
        model.run([d])
        assert np.array_equal(card.mem, model.mem) and np.array_equal(card.xmem, model.xmem)
        want = board_time.rtl_cycles([d], 2, 2).cycles
        assert res.cycles == want, (sizes, strides)
    contiguous = board_time.permute_issue_cycles(PermuteDesc(0, False, 1, 300, 10, 4, (24,), (1,)), 2)
    strided = board_time.permute_issue_cycles(PermuteDesc(0, False, 1, 300, 10, 3, (24,), (2,)), 2)
    assert (contiguous, strided) == (12, 24)


def test_permute_without_wait_overlaps_the_running_gemm():
    from qtn.fpga.card_model import CardModel
    from qtn.fpga.descriptors import GemmDesc, PermuteDesc
    from qtn.fpga.rtl_sim import ArrayConfig, VerilatedCard

    cfg = ArrayConfig()
    card, model = VerilatedCard(cfg, 1024, 64), CardModel(cfg.fmt, 1024, 64)
    words = formats.encode(cfg.fmt, _rand(np.random.default_rng(9), 200)).ravel()
    card.mem[:200] = model.mem[:200] = words
    descs = [PermuteDesc(0, False, 0, 300, 0, 8, (4, 8), (8, 1)),          # A (4 x 8)
             PermuteDesc(1, False, 32, 340, 4, 8, (8, 4), (1, 8)),         # B^T (4 x 8)
             GemmDesc(2, True, 1, 4, 8, 4, 300, 0, 340, 4, 400),          # 4 x 8 x 4
             PermuteDesc(3, False, 64, 420, 8, 8, (8, 8), (1, 8)),         # independent of the GEMM
             PermuteDesc(4, True, 400, 500, 16, 4, (4, 4), (4, 1)),        # reads the GEMM's result
             GemmDesc(5, True, 1, 4, 4, 2, 500, 16, 420, 8, 600)]
    res = card.run(descs)
    model.run(descs)
    assert np.array_equal(card.mem, model.mem) and np.array_equal(card.xmem, model.xmem)
    assert res.start[3] < res.done[2]          # the independent permute ran during the GEMM
    assert res.start[4] > res.done[2]          # the dependent one waited for it
    cyc = board_time.rtl_cycles(descs, 2, 2)
    assert cyc.done == tuple(int(x) for x in res.done) and cyc.cycles == res.cycles
