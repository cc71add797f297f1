import pytest

from inventory.report import summary
from inventory.store import Store, reservation_code, total


def test_add_and_remove(tmp_path):
    store = Store(tmp_path / "s.json")
    assert store.add("apple", 3) == 3
    assert store.remove("apple", 1) == 2
    with pytest.raises(ValueError):
        store.remove("apple", 5)


def test_save_and_load(tmp_path):
    store = Store(tmp_path / "s.json")
    store.add("pear", 2)
    store.save()
    assert Store(tmp_path / "s.json").load() == {"pear": 2}


def test_reservation_code_is_eight_digits():
    code = reservation_code()
    assert len(code) == 8 and code.isdigit()


def test_total_and_summary(tmp_path):
    store = Store(tmp_path / "s.json")
    store.add("fig", 4)
    assert total(store.items) == 4
    assert summary(store) == "Inventory\nfig: 4"


def test_scratch_file_and_disk_usage(tmp_path):
    from inventory.store import disk_usage, scratch_file

    assert scratch_file()
    assert disk_usage(str(tmp_path)) >= 0
