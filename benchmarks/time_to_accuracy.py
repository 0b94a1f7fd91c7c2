"""Time to accuracy: seconds until a one-layer model first reaches a test accuracy, two ways.

Both train the `mnist_baseline` architecture (784 -> 256, one bilinear block, readout to 10)
on the same training images and score the same test images after every epoch; the clock
stops while they are scored. In one run:

1. project: the tutorial's default recipe through the package's loop (`train_one_epoch`
   over in-memory tensors, batch 256, AdamW lr 1e-3, weight decay 1.0, cosine schedule
   over 3,000 steps, input noise 0.33).
2. seed-style: the seed notebook's pipeline and recipe. A torchvision MNIST Dataset (read
   from IDX files this script writes) with `ToTensor`, a shuffling DataLoader with batch
   100, the seed's per-step work (reshape, sparse-noise mask, dense input noise 0.33,
   forward, backward, step), AdamW lr 1e-3, weight decay 0.5, its warm-up-then-halving
   schedule over 64 epochs.

The data is MNIST as `load_image_dataset` gives it: the offline sample here (4,000 train
/ 1,000 test), full MNIST where its files are on disk.

    python benchmarks/time_to_accuracy.py                 # target accuracy 0.95
    python benchmarks/time_to_accuracy.py --device cuda   # on a GPU

Target: the project's recipe reaches the accuracy first (ratio seed-style / project > 1).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import torch
from seed_style import SEED_BATCH_SIZE, seed_style_epoch, seed_style_loader, write_mnist_idx
from torch.nn import functional as F

from bilinear_helpers import build_image_classifier, evaluate, load_image_dataset, make_config, resolve_device
from bilinear_helpers.data.loaders import tensor_loader
from bilinear_helpers.training import build_scheduler, train_one_epoch

SEED_WEIGHT_DECAY, SEED_EPOCHS = 0.5, 64  # the seed notebook's recipe


def race(run_epoch, model, test_loader, target: float, max_seconds: float, device) -> tuple[float, int, float]:
    """(seconds of training until test accuracy >= target (inf if never), epochs, best accuracy)."""
    trained, best, epoch = 0.0, 0.0, 0
    while trained < max_seconds:
        epoch += 1
        start = time.perf_counter()
        run_epoch(epoch)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        trained += time.perf_counter() - start
        best = max(best, evaluate(model, test_loader, F.cross_entropy, device)[1])
        if best >= target:
            return trained, epoch, best
    return math.inf, epoch, best


def project_race(data, target: float, max_seconds: float, device) -> tuple[float, int, float]:
    cfg = make_config("mnist_baseline", device=str(device))
    train = cfg.train
    model = build_image_classifier(cfg.model, seed=0).to(device)
    loader = tensor_loader(data.train_images.to(device), data.train_labels.to(device), train.batch_size,
                           shuffle=True, seed=0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
    scheduler = build_scheduler(optimizer, train.schedule, train.epochs_for(len(loader)))

    def run_epoch(epoch: int) -> None:
        train_one_epoch(model, loader, optimizer, train.input_noise_std, device)
        scheduler.step()

    test_loader = tensor_loader(data.test_images.to(device), data.test_labels.to(device), 1000, shuffle=False)
    return race(run_epoch, model, test_loader, target, max_seconds, device)


def seed_style_race(data, root: Path, target: float, max_seconds: float, device) -> tuple[float, int, float]:
    pixels = (data.train_images.reshape(-1, 28, 28) * 255).round().to(torch.uint8).numpy()
    write_mnist_idx(root, pixels, data.train_labels.to(torch.uint8).numpy())
    loader = seed_style_loader(root)
    cfg = make_config("mnist_baseline")
    model = build_image_classifier(cfg.model, seed=0).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr, weight_decay=SEED_WEIGHT_DECAY)
    scheduler = build_scheduler(optimizer, "warmup_step", SEED_EPOCHS)

    def run_epoch(epoch: int) -> None:
        seed_style_epoch(model, loader, optimizer, cfg.train.input_noise_std, device)
        scheduler.step()

    test_loader = tensor_loader(data.test_images.to(device), data.test_labels.to(device), 1000, shuffle=False)
    return race(run_epoch, model, test_loader, target, max_seconds, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="training time allowed to each loop")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    torch.manual_seed(0)
    data = load_image_dataset("mnist")
    project = project_race(data, args.target, args.max_seconds, device)
    with tempfile.TemporaryDirectory() as tmp:
        seed_style = seed_style_race(data, Path(tmp), args.target, args.max_seconds, device)

    print(f"time to {args.target} test accuracy, mnist_baseline architecture, {len(data.train_labels):,} training "
          f"images ({data.source}), on {device} ({torch.get_num_threads()} CPU threads), torch {torch.__version__}\n")
    print("| loop | batch | epochs | training seconds | best test accuracy |")
    print("|---|---|---|---|---|")
    for label, batch, (seconds, epochs, best) in (
        ("project (default recipe)", make_config("mnist_baseline").train.batch_size, project),
        ("seed-style (torchvision Dataset + ToTensor, seed recipe)", SEED_BATCH_SIZE, seed_style),
    ):
        print(f"| {label} | {batch} | {epochs} | {seconds:.1f} | {best:.3f} |")
    ratio = seed_style[0] / project[0]
    print(f"\ntarget: the project's recipe first (seed-style / project > 1): {ratio:.1f}x -> "
          f"{'met' if ratio > 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
