"""A deep Q-network agent as PyTorch users write one after the reinforcement-learning (DQN) tutorial: a Transition
namedtuple and a ReplayMemory over collections.deque sampled with random.sample, a policy net and a target net that
starts as its copy (target_net.load_state_dict(policy_net.state_dict())) and follows it by a soft update of the
state dicts (tau), epsilon-greedy actions (the greedy one by policy_net(state).max(1).indices.view(1, 1) under
torch.no_grad()), the batch made by zip(*transitions), torch.cat and a non-final mask of torch.bool, Q(s, a) by
gather, the targets' max over the target net written through the mask, SmoothL1Loss, AdamW(amsgrad=True) and
clip_grad_value_. Written against a module `torch`. Gym's CartPole is prog_actor_critic's numpy cart-pole; the
random actions come from Python's random module (seeded by the program), as the exploration draws do."""
import math
import random
from collections import deque, namedtuple

import numpy as np

from prog_actor_critic import CartPole

Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))


class ReplayMemory:
    def __init__(self, capacity):
        self.memory = deque([], maxlen=capacity)

    def push(self, *args):
        """Save a transition"""
        self.memory.append(Transition(*args))

    def sample(self, batch_size):
        return random.sample(self.memory, batch_size)

    def __len__(self):
        return len(self.memory)


def build(torch, n_observations=4, n_actions=2, hidden=64):
    nn = torch.nn
    F = nn.functional

    class DQN(nn.Module):
        def __init__(self):
            super(DQN, self).__init__()
            self.layer1 = nn.Linear(n_observations, hidden)
            self.layer2 = nn.Linear(hidden, hidden)
            self.layer3 = nn.Linear(hidden, n_actions)

        def forward(self, x):
            x = F.relu(self.layer1(x))
            x = F.relu(self.layer2(x))
            return self.layer3(x)

    return DQN()


def train(torch, policy_net, target_net, episodes=6, batch_size=16, gamma=0.99, eps_start=0.9, eps_end=0.05,
          eps_decay=200, tau=0.05, lr=1e-3, seed=0, max_steps=40):
    """Returns the episode lengths, the loss of each optimisation step, the actions taken and the policy net's
    Q-values on the states of the last episode."""
    random.seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    policy_net, target_net = policy_net.to(device), target_net.to(device)
    env = CartPole(max_steps=max_steps)
    target_net.load_state_dict(policy_net.state_dict())
    optimizer = torch.optim.AdamW(policy_net.parameters(), lr=lr, amsgrad=True)
    memory = ReplayMemory(1000)
    steps_done = 0
    losses, actions, durations = [], [], []

    def select_action(state):
        nonlocal steps_done
        sample = random.random()
        eps_threshold = eps_end + (eps_start - eps_end) * math.exp(-1.0 * steps_done / eps_decay)
        steps_done += 1
        if sample > eps_threshold:
            with torch.no_grad():
                return policy_net(state).max(1).indices.view(1, 1)
        return torch.tensor([[random.randrange(2)]], device=device, dtype=torch.long)

    def optimize_model():
        if len(memory) < batch_size:
            return
        transitions = memory.sample(batch_size)
        batch = Transition(*zip(*transitions))
        non_final_mask = torch.tensor(tuple(map(lambda s: s is not None, batch.next_state)), device=device,
                                      dtype=torch.bool)
        non_final_next_states = torch.cat([s for s in batch.next_state if s is not None])
        state_batch = torch.cat(batch.state)
        action_batch = torch.cat(batch.action)
        reward_batch = torch.cat(batch.reward)
        state_action_values = policy_net(state_batch).gather(1, action_batch)
        next_state_values = torch.zeros(batch_size, device=device)
        with torch.no_grad():
            next_state_values[non_final_mask] = target_net(non_final_next_states).max(1).values
        expected_state_action_values = (next_state_values * gamma) + reward_batch
        criterion = torch.nn.SmoothL1Loss()
        loss = criterion(state_action_values, expected_state_action_values.unsqueeze(1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
        optimizer.step()
        losses.append(loss.item())

    for i_episode in range(episodes):
        state, info = env.reset(seed=seed + i_episode)
        state = torch.tensor(state, dtype=torch.float32, device=device).unsqueeze(0)
        visited = [state]
        for t in range(max_steps):
            action = select_action(state)
            actions.append(action.item())
            observation, reward, terminated, truncated, _ = env.step(action.item())
            reward = torch.tensor([reward], device=device)
            done = terminated or truncated
            if terminated:
                next_state = None
            else:
                next_state = torch.tensor(observation, dtype=torch.float32, device=device).unsqueeze(0)
            memory.push(state, action, next_state, reward)
            state = next_state
            optimize_model()
            # Soft update of the target network's weights: θ′ ← τ θ + (1 − τ) θ′
            target_net_state_dict = target_net.state_dict()
            policy_net_state_dict = policy_net.state_dict()
            for key in policy_net_state_dict:
                target_net_state_dict[key] = policy_net_state_dict[key] * tau + target_net_state_dict[key] * (1 - tau)
            target_net.load_state_dict(target_net_state_dict)
            if done:
                durations.append(t + 1)
                break
            visited.append(state)
    with torch.no_grad():
        q_values = policy_net(torch.cat(visited)).cpu().numpy()
    return np.array(durations), np.array(losses), actions, q_values
