"""Compute of the steering dose-response figure: each host steered along each reader's
chosen direction, the direction picked on selection inputs by the correlation of its
activation with the target output, and the shuffled-task host's outputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from figures_src.steering_dose_response import Params


KINDS = (
    "dictionary atom",
    "best neuron",
    "random (as many candidates as neurons)",
    "random (as many candidates as atoms)",
    "true feature (oracle)",
)


def _train_shuffled(cfg: Any) -> Any:
    """The null host trained on a shuffled task: `train_toy`'s recipe (same initial
    weights, inputs from the same generators, optimiser and steps), but each input's
    target is the features of another input of the batch (a permutation drawn per step
    and instance), so the output can learn nothing about the input."""
    import torch

    from symbiote_core.hosts.toy import ToyModel

    generators = cfg.generators()
    model = ToyModel(cfg, generator=generators)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    for _ in range(cfg.steps):
        x = model.sample_features(cfg.batch_size, generators)  # (batch, inst, features)
        order = torch.stack(
            [torch.randperm(cfg.batch_size, generator=g) for g in generators], dim=1
        )  # (batch, inst)
        target = x.gather(0, order[..., None].expand_as(x))
        loss = model.loss(target, model(x)).sum()  # a sum keeps instances independent
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval()


def _shuffled_outputs(p: Params, host: Any) -> dict[str, list[float]]:
    """What the host trained on a shuffled task outputs on the selection inputs, per
    seed: its largest output and how many features fire often enough to be targets."""
    import torch

    from figures_src._lab import toy
    from symbiote_core.hosts.toy import toy_activations

    acts, _ = toy_activations(host, p.n_activations, toy.streams(p.seeds, toy.ACTIVATIONS))
    with torch.no_grad():
        out = host.decode(acts)  # (sel, inst, features)
    fired = (out > 0).sum(0)  # (inst, features)
    return {
        "max_output": [round(v, 6) for v in out.amax(dim=(0, 2)).tolist()],
        "eligible_targets": (fired >= p.min_firings).sum(-1).tolist(),
    }


def _steer_host(
    p: Params,
    name: str,
    host: Any,
    selection: Any,
    latents: Any,
    atoms_all: Any,
    doses: Any,
    rows: list[dict[str, Any]],
    targets_info: list[dict[str, Any]] | None,
) -> None:
    """Pick every reader's direction for each target of each seed of one host and steer
    along it at `doses`; append one row per (seed, target, kind, dose)."""
    import torch

    from figures_src._lab import toy
    from symbiote_core.metrics import cosine_matrix, random_directions

    seeds, d = list(p.seeds), p.host.d_hidden
    true_dirs, _ = host.true_directions()  # (inst, features, d)
    with torch.no_grad():
        sel_out = host.decode(selection)  # (sel, inst, features): clean outputs
        x_eval = host.sample_features(p.n_eval, toy.streams(seeds, toy.EVALUATION))
        h_eval = host.hidden(x_eval)  # (eval, inst, d)
        clean_eval = host.decode(h_eval)  # (eval, inst, features)
    eye = torch.eye(d)
    for i, seed in enumerate(seeds):
        fired = (sel_out[:, i] > 0).sum(0)  # (features,)
        eligible = (fired >= p.min_firings).nonzero().flatten()
        order = torch.randperm(len(eligible), generator=toy.stream(seed, toy.TARGETS))
        targets = eligible[order[: p.n_targets]]
        gen = toy.stream(seed, toy.RANDOM_READERS)
        # Candidates with both signs: d axes -> 2d candidates; n/2 random -> n candidates.
        random_small = random_directions(d, d, gen)
        random_large = random_directions(p.host.n_features // 2, d, gen)
        atoms = atoms_all[i]  # (d_sae, d)
        cos_atoms = cosine_matrix(atoms, true_dirs[i])  # (d_sae, features)
        h_sel = selection[:, i]
        outs = _standardise(sel_out[:, i, targets])  # (sel, targets)
        # Each reader's candidates (rows) and their activations on the selection inputs;
        # signed readers offer each direction and its negation.
        readers = {
            KINDS[0]: (atoms, latents[:, i], False),
            KINDS[1]: (eye, h_sel, True),
            KINDS[2]: (random_small, h_sel @ random_small.T, True),
            KINDS[3]: (random_large, h_sel @ random_large.T, True),
        }
        picks = {
            kind: _pick(directions, activations, outs, signed)
            for kind, (directions, activations, signed) in readers.items()
        }  # kind -> ((targets, d) directions, (targets,) candidate index)
        for j, t in enumerate(targets.tolist()):
            chosen = {kind: picked[0][j] for kind, picked in picks.items()}
            chosen[KINDS[4]] = true_dirs[i, t]
            if targets_info is not None:
                atom_index = int(picks[KINDS[0]][1][j])
                targets_info.append(
                    {
                        "seed": seed,
                        "target": t,
                        "firings": int(fired[t]),
                        "chosen_atom_cosine": round(cos_atoms[atom_index, t].item(), 4),
                        "best_atom_cosine": round(cos_atoms[:, t].max().item(), 4),
                    }
                )
            others = torch.ones(p.host.n_features, dtype=torch.bool)
            others[t] = False
            for kind, direction in chosen.items():
                change = _steer(host, h_eval, clean_eval, i, direction, doses)  # (doses, eval, f)
                gains = change[:, :, t].mean(1)
                collaterals = change[:, :, others].abs().mean((1, 2))
                for k, dose in enumerate(doses.tolist()):
                    rows.append(
                        {
                            "host": name,
                            "seed": seed,
                            "target": t,
                            "direction": kind,
                            "dose": dose,
                            "gain": round(gains[k].item(), 6),
                            "collateral": round(collaterals[k].item(), 7),
                        }
                    )


def _steer(host: Any, hidden: Any, clean: Any, i: int, direction: Any, doses: Any) -> Any:
    """Change of instance i's outputs when `dose * direction` is added at `hook_hidden`.

    The host's output is `decode(hook_hidden(h))`, so steering there gives
    `decode(h + dose * direction)`; this evaluates it for instance i alone and every
    dose at once, `(doses, eval, features)`. tests/test_figures_toy.py checks it
    against `intervene(host, [Intervention("hook_hidden", add(...))])`.
    """
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        pre = hidden[:, i] @ host.W[i].T + host.b[i]  # (eval, features)
        push = host.W[i] @ direction  # (features,): what a unit push adds to each output
        steered = F.relu(pre[None] + doses[:, None, None] * push)  # (doses, eval, features)
        return steered - clean[None, :, i]


def _standardise(a: Any) -> Any:
    """Columns centred and scaled to unit norm, so `x.T @ y` is Pearson's correlation
    (0 for a constant column)."""
    a = a - a.mean(0)
    return a / a.norm(dim=0).clamp_min(1e-12)


def _pick(directions: Any, activations: Any, outs: Any, signed: bool) -> tuple[Any, Any]:
    """Per target, the candidate whose activation correlates best with its output.

    `directions` `(n, d)` with `activations` `(samples, n)` on the selection inputs and
    standardised target outputs `outs` `(samples, targets)`. With `signed`, each
    direction's negation is a candidate too (its correlation is the negation). Returns
    the chosen unit directions `(targets, d)` and candidate indices `(targets,)`.
    """
    import torch

    corr = _standardise(activations).T @ outs  # (n, targets)
    if signed:
        directions = torch.cat([directions, -directions])
        corr = torch.cat([corr, -corr])
    index = corr.argmax(0)
    return directions[index], index
