import pytest
import tensorflow as tf

from keras_bigs.data import hold_out_every


def test_hold_out_every_splits_by_position_into_disjoint_parts():
    documents = tf.data.Dataset.from_tensor_slices(
        [f"document {i}" for i in range(23)]
    )
    training, held_out = hold_out_every(documents, 5)
    training = [d.decode() for d in training.as_numpy_iterator()]
    held_out = [d.decode() for d in held_out.as_numpy_iterator()]
    assert held_out == [f"document {i}" for i in (0, 5, 10, 15, 20)]
    assert len(training) == 18 and not set(training) & set(held_out)
    assert sorted(training + held_out) == sorted(
        f"document {i}" for i in range(23)
    )
    # The same split on every pass.
    again = hold_out_every(documents, 5)[1]
    assert [d.decode() for d in again.as_numpy_iterator()] == held_out


@pytest.mark.parametrize("every", [0, 1, -3, 2.5])
def test_hold_out_every_refuses_a_share_that_is_not_a_part(every):
    with pytest.raises(ValueError, match="every must be an int of at least 2"):
        hold_out_every(tf.data.Dataset.range(4), every)
