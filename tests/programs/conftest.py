"""What every program test here shares."""
import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """PyTorch's thread pool fights the other processes on a small CI machine; one thread keeps it quick."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
