"""The PyTorch examples' reinforcement_learning/actor_critic.py as written: one Policy with a shared hidden layer
and two heads (action probabilities through F.softmax, and the state value), fed one 1-D state at a time, so
that m.log_prob(action) is 0-d and the value has shape [1]; torch.distributions.Categorical for sampling;
SavedAction namedtuples in model.saved_actions; the discounted returns normalised with
np.finfo(np.float32).eps; per step -log_prob * advantage and F.smooth_l1_loss(value, torch.tensor([R])) (a list
of one 0-d tensor), summed with torch.stack; Adam; `del model.rewards[:]` between episodes; a running reward
against the environment's reward threshold. Here the update's gradient norm is also clipped (and recorded) with
torch.nn.utils.clip_grad_norm_, as many users add. Written against a module `torch`. Gym's CartPole is replaced by
a numpy cart-pole (below) with the same dynamics and interface, cut at 60 steps per episode."""
from collections import namedtuple
from types import SimpleNamespace

import numpy as np

SavedAction = namedtuple("SavedAction", ["log_prob", "value"])


class CartPole:
    """A pole hinged on a cart that the actions push left (0) or right (1) with 10 N, integrated by explicit Euler
    steps of 20 ms; the episode ends when the pole leans past 12 degrees or the cart leaves [-2.4, 2.4], and is
    cut after max_steps. Every step before the end earns 1. Deterministic given the actions: only the starting
    state is drawn (uniform in [-0.05, 0.05]^4). Gym's reset/step interface."""

    gravity, cart_mass, pole_mass, half_length, force_mag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02

    def __init__(self, max_steps=60):
        self.max_steps = max_steps
        self.spec = SimpleNamespace(reward_threshold=0.95 * max_steps)
        self.rng = np.random.default_rng()

    def reset(self, seed=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.state = self.rng.uniform(-0.05, 0.05, 4)
        self.steps = 0
        return self.state.astype(np.float32), {}

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = self.force_mag if action == 1 else -self.force_mag
        total_mass = self.cart_mass + self.pole_mass
        cos, sin = np.cos(theta), np.sin(theta)
        # The pole's angular acceleration from the force on the cart and gravity, then the cart's.
        temp = (force + self.pole_mass * self.half_length * theta_dot ** 2 * sin) / total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.half_length * (4.0 / 3.0 - self.pole_mass * cos ** 2 / total_mass))
        x_acc = temp - self.pole_mass * self.half_length * theta_acc * cos / total_mass
        self.state = np.array([x + self.tau * x_dot, x_dot + self.tau * x_acc,
                               theta + self.tau * theta_dot, theta_dot + self.tau * theta_acc])
        self.steps += 1
        fallen = abs(self.state[0]) > 2.4 or abs(self.state[2]) > 12 * np.pi / 180
        return self.state.astype(np.float32), 1.0, bool(fallen), self.steps >= self.max_steps, {}


def build(torch, hidden=128):
    nn = torch.nn
    F = nn.functional

    class Policy(nn.Module):
        """implements both actor and critic in one model"""

        def __init__(self):
            super(Policy, self).__init__()
            self.affine1 = nn.Linear(4, hidden)
            self.action_head = nn.Linear(hidden, 2)  # actor's layer
            self.value_head = nn.Linear(hidden, 1)  # critic's layer
            self.saved_actions = []
            self.rewards = []

        def forward(self, x):
            x = F.relu(self.affine1(x))
            action_prob = F.softmax(self.action_head(x), dim=-1)
            state_values = self.value_head(x)
            return action_prob, state_values

    return Policy()


def train(torch, model, episodes=8, gamma=0.99, seed=1, lr=3e-2, max_grad_norm=40.0, log_interval=4):
    """The example's main loop for at most `episodes` episodes (it stops early once the running reward passes the
    threshold); returns each episode's reward, each update's loss and gradient norm (before clipping), and the
    last running reward."""
    F = torch.nn.functional
    Categorical = torch.distributions.Categorical
    env = CartPole()
    env.reset(seed=seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    eps = np.finfo(np.float32).eps.item()

    def select_action(state):
        state = torch.from_numpy(state).float()
        probs, state_value = model(state)
        m = Categorical(probs)
        action = m.sample()
        model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
        return action.item()

    def finish_episode():
        R = 0
        saved_actions = model.saved_actions
        policy_losses = []
        value_losses = []
        returns = []
        for r in model.rewards[::-1]:
            R = r + gamma * R
            returns.insert(0, R)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        for (log_prob, value), R in zip(saved_actions, returns):
            advantage = R - value.item()
            policy_losses.append(-log_prob * advantage)
            value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
        optimizer.zero_grad()
        loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        del model.rewards[:]
        del model.saved_actions[:]
        return loss.item(), norm.item()

    running_reward = 10
    rewards, updates = [], []
    for i_episode in range(1, episodes + 1):
        state, _ = env.reset()
        ep_reward = 0
        for t in range(1, 10000):
            action = select_action(state)
            state, reward, done, truncated, _ = env.step(action)
            model.rewards.append(reward)
            ep_reward += reward
            if done or truncated:
                break
        running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
        updates.append(finish_episode())
        rewards.append(ep_reward)
        if i_episode % log_interval == 0:
            line = "Episode {}\tLast reward: {:.2f}\tAverage reward: {:.2f}".format(i_episode, ep_reward, running_reward)
            assert line.startswith("Episode")
        if running_reward > env.spec.reward_threshold:
            break
    losses, norms = zip(*updates)
    return rewards, list(losses), list(norms), running_reward
