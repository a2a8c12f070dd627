"""The flow's exact k x k median filter as a pruned sorting network of min/max ops.

Sun, Roth & Black 2010 ("Secrets of optical flow estimation") filter the flow with
a median after each warping step: it removes outliers near motion boundaries.
Sorting the k * k values of every window (`tf.sort` on extracted patches) costs
about 2 us per pixel on a 2-core CPU, more than the rest of the solver. Here the
median comes from a comparator network instead, evaluated with elementwise
`tf.minimum` / `tf.maximum` on whole images:
1. each column of k values is sorted once (shared by the k windows that contain
   it): Batcher's odd-even merge sort on k wires, padded with +inf to a power of 2;
2. the k sorted columns of a window are merged with Batcher's odd-even merges
   (blocks of m = next power of 2 >= k wires, k real blocks, the rest +inf);
3. the network is evaluated symbolically first: comparators against the +inf
   padding become free re-labellings, and only the comparators the middle output
   depends on are kept (backward pruning).
For k = 5: 18 ops sort the columns and 82 more give the median, instead of a
25-value sort per pixel. The result is exactly the median (the same float values),
with the border replicated as before.
"""

from __future__ import annotations

import functools

import tensorflow as tf

from hdr_keras.ops.flow.pyramid import _pad_edge

_INF = None  # a wire that holds +inf (padding)


def _merge(lo: int, hi: int, r: int):
    """Comparators of Batcher's odd-even merge of wires lo..hi (inclusive) at
    stride r, the two halves already sorted; hi - lo + 1 a power of 2."""
    step = r * 2
    if step < hi - lo:
        yield from _merge(lo, hi, step)
        yield from _merge(lo + r, hi, step)
        yield from ((i, i + r) for i in range(lo + r, hi - r, step))
    else:
        yield (lo, lo + r)


def _sort(lo: int, hi: int):
    """Comparators of Batcher's odd-even merge sort of wires lo..hi (inclusive)."""
    if hi - lo >= 1:
        mid = lo + (hi - lo) // 2
        yield from _sort(lo, mid)
        yield from _sort(mid + 1, hi)
        yield from _merge(lo, hi, 1)


def _power_of_two(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def _run(wires: list, comparators) -> tuple[list, list]:
    """Symbolic evaluation: wires hold input ids (ints >= 0), node ids (from the
    returned node list, as ("node", i)) or _INF; returns (wires, nodes) with nodes
    [(op, a, b)], op "min" or "max"."""
    nodes: list = []
    wires = list(wires)
    for i, j in comparators:  # i < j: min goes to i, max to j
        a, b = wires[i], wires[j]
        if b is _INF:
            continue
        if a is _INF:
            wires[i], wires[j] = b, _INF
            continue
        nodes.append(("min", a, b))
        nodes.append(("max", a, b))
        wires[i], wires[j] = ("node", len(nodes) - 2), ("node", len(nodes) - 1)
    return wires, nodes


def _pruned(outputs: list, nodes: list) -> list:
    """Indices of the nodes the `outputs` depend on, in evaluation order."""
    needed, stack = set(), [w for w in outputs if isinstance(w, tuple)]
    while stack:
        _, index = stack.pop()
        if index in needed:
            continue
        needed.add(index)
        _, a, b = nodes[index]
        stack.extend(w for w in (a, b) if isinstance(w, tuple))
    return sorted(needed)


@functools.lru_cache(maxsize=None)
def _column_network(k: int):
    """(nodes, outputs) sorting k inputs (ids 0..k-1)."""
    m = _power_of_two(k)
    wires, nodes = _run(list(range(k)) + [_INF] * (m - k), _sort(0, m - 1))
    return nodes, tuple(wires[:k])


@functools.lru_cache(maxsize=None)
def _median_network(k: int):
    """(nodes kept, output) of the median of k sorted columns of k values: input
    id c * k + i is value i (ascending) of column c."""
    m = _power_of_two(k)
    blocks = _power_of_two(k)
    wires = []
    for c in range(blocks):
        column = [c * k + i for i in range(k)] if c < k else []
        wires += column + [_INF] * (m - len(column))
    comparators = []
    size = 2 * m
    while size <= m * blocks:
        for lo in range(0, m * blocks, size):
            comparators.extend(_merge(lo, lo + size - 1, 1))
        size *= 2
    wires, nodes = _run(wires, comparators)
    output = wires[(k * k) // 2]  # the +inf padding sorts after every value
    return nodes, _pruned([output], nodes), output


def _evaluate(inputs, nodes, keep, outputs):
    values = {}

    def get(wire):
        return values[wire[1]] if isinstance(wire, tuple) else inputs[wire]

    for index in keep:
        op, a, b = nodes[index]
        values[index] = (tf.minimum if op == "min" else tf.maximum)(get(a), get(b))
    return [get(w) for w in outputs]


def median_filter(x: tf.Tensor, size: int) -> tf.Tensor:
    """Exact size x size median of x [B, H, W, C] per channel, borders replicated."""
    radius = size // 2
    padded = _pad_edge(_pad_edge(x, radius, radius, 1), radius, radius, 2)
    height, width = tf.shape(x)[1], tf.shape(x)[2]
    rows = [padded[:, i : i + height] for i in range(size)]  # [B, H, W + 2r, C]
    column_nodes, column_outputs = _column_network(size)
    columns = _evaluate(rows, column_nodes, range(len(column_nodes)), column_outputs)
    window = [
        column[:, :, c : c + width] for c in range(size) for column in columns
    ]
    nodes, keep, output = _median_network(size)
    return _evaluate(window, nodes, keep, [output])[0]
