# Oracle for noisy_or_diagnosis.tl: the crisp rules by set comprehensions, the single-cause
# posterior by Bayes' rule in float64 (likelihood of each symptom observed or not, +0.001 inside
# the log as in the program).
import numpy as np
from oracle_format import show, rnd
diseases = ["flu", "cold", "allergy"]
symptoms = ["fever", "cough", "sneeze", "itch"]
causes = {("flu", "fever"), ("flu", "cough"), ("cold", "cough"), ("cold", "sneeze"), ("allergy", "sneeze"),
          ("allergy", "itch")}
observed = {"cough", "sneeze"}
explains = {(d, s) for d, s in causes if s in observed}
out = [f"d = {d}" for d in diseases if any(e == d for e, _ in explains)]
out += [f"s = {s}" for s in symptoms if s in observed and not any(t == s for _, t in explains)] or ["false"]
prior = np.array([0.1, 0.3, 0.2])
strength = np.array([[0.9, 0.6, 0.0, 0.0], [0.1, 0.7, 0.8, 0.0], [0.0, 0.1, 0.7, 0.8]])
obs = np.array([s in observed for s in symptoms], float)
like = obs * strength + (1 - obs) * (1 - strength)
score = np.log(prior) + np.log(like + 0.001).sum(1)
post = np.exp(score - score.max()); post /= post.sum()
out.append("posterior over single causes: " + show(rnd(post, 100)))
out.append(f"best single explanation: {diseases[int(np.argmax(post))]}")
active = np.array([0, 1, 1.0])
both = 1 - np.prod(1 - strength * active[:, None], axis=0)
out.append("P(symptom | cold and allergy): " + show(rnd(both, 100)))
print("\n".join(out))
