import collections

import pytest

from keras_bigs.data import shard_for_host
from keras_bigs.data import text_corpus_dataset
from tests.data.conftest import strings
from tests.data.conftest import write_text


@pytest.fixture
def corpus_files(tmp_path):
    """Four files of 5, 6, 7 and 8 one-line documents."""
    paths = []
    for f in range(4):
        lines = "".join(f"file{f} doc{d}\n" for d in range(5 + f))
        paths.append(str(write_text(tmp_path / f"part{f}.txt", lines)))
    return paths


@pytest.mark.parametrize("num_hosts", [1, 3, 4, 8])
@pytest.mark.parametrize("which", ["file_list", "single_file", "dataset"])
def test_every_example_is_read_once_across_hosts(
    corpus_files, num_hosts, which
):
    if which == "file_list":
        source, expected_files = corpus_files, corpus_files
    elif which == "single_file":
        source, expected_files = corpus_files[3], corpus_files[3:]
    else:
        source = text_corpus_dataset(corpus_files)
        expected_files = corpus_files
    seen = collections.Counter()
    for host in range(num_hosts):
        dataset = shard_for_host(
            source, num_hosts, host, make_dataset=text_corpus_dataset
        )
        seen.update(strings(dataset))
    lines = [
        line
        for path in expected_files
        for line in open(path, encoding="utf-8").read().splitlines()
    ]
    assert seen == collections.Counter(lines)
    assert set(seen.values()) == {1}


def test_files_go_to_hosts_whole_when_there_are_enough(corpus_files):
    for host in range(3):
        read = []
        shard_for_host(
            corpus_files,
            3,
            host,
            make_dataset=lambda files: (
                read.extend(files) or text_corpus_dataset(files)
            ),
        )
        assert read == corpus_files[host::3]
    with pytest.raises(
        ValueError,
        match=r"host_index must be in \[0, 3\), "
        r"not 3",
    ):
        shard_for_host(corpus_files, 3, 3, text_corpus_dataset)
    with pytest.raises(ValueError, match=r"needs make_dataset"):
        shard_for_host(corpus_files, 2, 0)
