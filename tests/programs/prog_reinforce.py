"""The PyTorch examples' policy-gradient agents (reinforcement_learning/reinforce.py and actor_critic.py):
a policy network whose softmax feeds torch.distributions.Categorical, actions sampled and their log_prob
saved, discounted returns normalised by np.finfo(np.float32).eps, the loss summed with torch.cat (REINFORCE)
or torch.stack with a value head and smooth_l1_loss (actor-critic), an entropy bonus; written against a
module `torch`. The gym environment is replaced by a small numpy one (below) with the same interface."""
from collections import namedtuple

import numpy as np

SavedAction = namedtuple("SavedAction", ["log_prob", "value"])


class Env:
    """Episodes of `length` steps; each step shows a 4-vector of observations, and the action (0 or 1) earns 1
    when it names the larger of two fixed projections of it. gym's reset/step interface."""

    def __init__(self, seed, length=10):
        self.rng = np.random.default_rng(seed)
        self.project = self.rng.standard_normal((4, 2))
        self.length = length

    def reset(self, seed=None):
        self.t = 0
        self.state = self.rng.standard_normal(4).astype(np.float32)
        return self.state, {}

    def step(self, action):
        reward = float(action == int(np.argmax(self.state @ self.project)))
        self.t += 1
        self.state = self.rng.standard_normal(4).astype(np.float32)
        return self.state, reward, self.t >= self.length, False, {}


def build(torch, kind):
    nn = torch.nn
    F = nn.functional

    class Policy(nn.Module):
        def __init__(self):
            super(Policy, self).__init__()
            self.affine1 = nn.Linear(4, 32)
            self.dropout = nn.Dropout(p=0.0)
            self.affine2 = nn.Linear(32, 2)

            self.saved_log_probs = []
            self.rewards = []

        def forward(self, x):
            x = self.affine1(x)
            x = self.dropout(x)
            x = F.relu(x)
            action_scores = self.affine2(x)
            return F.softmax(action_scores, dim=1)

    class ActorCritic(nn.Module):
        def __init__(self):
            super(ActorCritic, self).__init__()
            self.affine1 = nn.Linear(4, 32)
            self.action_head = nn.Linear(32, 2)
            self.value_head = nn.Linear(32, 1)

            self.saved_actions = []
            self.rewards = []

        def forward(self, x):
            x = F.relu(self.affine1(x))
            action_prob = F.softmax(self.action_head(x), dim=-1)
            state_values = self.value_head(x)
            return action_prob, state_values

    return Policy() if kind == "reinforce" else ActorCritic()


def train(torch, model, episodes=60, gamma=0.99, seed=1, entropy_beta=0.01):
    """The examples' main loops for `episodes` episodes (Adam at lr 3e-2); returns each episode's
    reward, each update's loss and the running reward the examples log."""
    F = torch.nn.functional
    Categorical = torch.distributions.Categorical  # the examples: from torch.distributions import Categorical
    torch.manual_seed(seed)
    env = Env(seed)
    eps = np.finfo(np.float32).eps.item()
    actor_critic = hasattr(model, "value_head")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)

    def select_action(state):
        state = torch.from_numpy(state).float().unsqueeze(0)
        if actor_critic:
            probs, state_value = model(state)
            m = Categorical(probs)
            action = m.sample()
            model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
        else:
            probs = model(state)
            m = Categorical(probs)
            action = m.sample()
            model.saved_log_probs.append(m.log_prob(action))
        entropies.append(m.entropy())
        return action.item()

    def returns_of(rewards):
        R = 0
        returns = []
        for r in rewards[::-1]:
            R = r + gamma * R
            returns.insert(0, R)
        returns = torch.tensor(returns)
        return (returns - returns.mean()) / (returns.std() + eps)

    def finish_episode():
        returns = returns_of(model.rewards)
        bonus = -entropy_beta * torch.cat(entropies).sum()
        if actor_critic:
            policy_losses, value_losses = [], []
            for (log_prob, value), R in zip(model.saved_actions, returns):
                advantage = R - value.item()
                policy_losses.append(-log_prob * advantage)
                value_losses.append(F.smooth_l1_loss(value, torch.tensor([[R]])))
            optimizer.zero_grad()
            loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum() + bonus
            loss.backward()
            optimizer.step()
            del model.rewards[:]
            del model.saved_actions[:]
        else:
            policy_loss = []
            for log_prob, R in zip(model.saved_log_probs, returns):
                policy_loss.append(-log_prob * R)
            optimizer.zero_grad()
            loss = torch.cat(policy_loss).sum() + bonus
            loss.backward()
            optimizer.step()
            del model.rewards[:]
            del model.saved_log_probs[:]
        del entropies[:]
        return loss.item()

    running_reward = 0
    episode_rewards, losses, entropies = [], [], []
    for i_episode in range(episodes):
        state, _ = env.reset()
        ep_reward = 0
        for t in range(1, 10000):
            action = select_action(state)
            state, reward, done, _, _ = env.step(action)
            model.rewards.append(reward)
            ep_reward += reward
            if done:
                break
        running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
        losses.append(finish_episode())
        episode_rewards.append(ep_reward)
        log = 'Episode {}\tLast reward: {:.2f}\tAverage reward: {:.2f}'.format(i_episode, ep_reward, running_reward)
        assert log.startswith("Episode")
    return episode_rewards, losses, running_reward
