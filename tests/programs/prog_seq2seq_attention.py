"""A sequence-to-sequence GRU encoder-decoder with Bahdanau (additive) attention, shaped as the PyTorch tutorial
"translation with a sequence to sequence network and attention" writes it: nn.Embedding and batch_first nn.GRU,
the attention's energies Va(tanh(Wa(query) + Ua(keys))) softmaxed over the encoder steps and applied by
torch.bmm, log_softmax outputs under NLLLoss, greedy decoding by topk; trained with teacher forcing decided per
batch by a seeded python RNG (else the decoder feeds back its own detached top choice), two Adam optimizers and
gradient clipping. Written against a module `torch`. Shrunk: a synthetic "language pair" (the target is the
source's words reversed and respelled, in a vocabulary of its own), sentences of 2 to 5 words, width 32."""
import random

import numpy as np

SOS_token, EOS_token = 0, 1
WORDS = ["le", "chat", "chien", "rouge", "bleu", "mange", "voit", "grand", "petit", "vieux"]
MAX_LENGTH = 7  # 5 words, EOS, and room for one more step


def build(torch, input_size=len(WORDS) + 2, output_size=len(WORDS) + 2, hidden_size=32, dropout_p=0.1):
    nn = torch.nn
    F = nn.functional

    class EncoderRNN(nn.Module):
        def __init__(self):
            super(EncoderRNN, self).__init__()
            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input):
            embedded = self.dropout(self.embedding(input))
            output, hidden = self.gru(embedded)
            return output, hidden

    class BahdanauAttention(nn.Module):
        def __init__(self):
            super(BahdanauAttention, self).__init__()
            self.Wa = nn.Linear(hidden_size, hidden_size)
            self.Ua = nn.Linear(hidden_size, hidden_size)
            self.Va = nn.Linear(hidden_size, 1)

        def forward(self, query, keys):
            scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))  # [B, S, 1]
            scores = scores.squeeze(2).unsqueeze(1)  # [B, 1, S]
            weights = F.softmax(scores, dim=-1)
            context = torch.bmm(weights, keys)  # [B, 1, H]
            return context, weights

    class AttnDecoderRNN(nn.Module):
        def __init__(self):
            super(AttnDecoderRNN, self).__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.attention = BahdanauAttention()
            self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)
            self.dropout = nn.Dropout(dropout_p)

        def forward_step(self, input, hidden, encoder_outputs):
            embedded = self.dropout(self.embedding(input))  # [B, 1, H]
            query = hidden.permute(1, 0, 2)  # [1, B, H] -> [B, 1, H]
            context, attn_weights = self.attention(query, encoder_outputs)
            output, hidden = self.gru(torch.cat((embedded, context), dim=2), hidden)
            return self.out(output), hidden, attn_weights

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            """Decodes MAX_LENGTH steps from SOS: feeding target_tensor's tokens when given (teacher forcing),
            else its own top choice, detached."""
            batch_size = encoder_outputs.size(0)
            decoder_input = torch.empty(batch_size, 1, dtype=torch.long,
                                        device=encoder_outputs.device).fill_(SOS_token)
            decoder_hidden = encoder_hidden
            decoder_outputs, attentions = [], []
            for i in range(MAX_LENGTH):
                decoder_output, decoder_hidden, attn_weights = self.forward_step(decoder_input, decoder_hidden,
                                                                                 encoder_outputs)
                decoder_outputs.append(decoder_output)
                attentions.append(attn_weights)
                if target_tensor is not None:
                    decoder_input = target_tensor[:, i].unsqueeze(1)
                else:
                    _, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze(-1).detach()
            decoder_outputs = F.log_softmax(torch.cat(decoder_outputs, dim=1), dim=-1)
            return decoder_outputs, decoder_hidden, torch.cat(attentions, dim=1)

    return nn.ModuleDict({"encoder": EncoderRNN(), "decoder": AttnDecoderRNN()})


def make_pairs(rng, n_train=192, n_test=32):
    """(source, target) sentences: the target is the source reversed, each word upper-cased."""
    def sentence():
        words = rng.choice(WORDS, rng.integers(2, 6))
        return " ".join(words), " ".join(w.upper() for w in reversed(words))
    pairs = [sentence() for _ in range(n_train + n_test)]
    return pairs[:n_train], pairs[n_train:]


class Lang:
    """The tutorial's word index: SOS and EOS first, then each word by first appearance."""

    def __init__(self):
        self.word2index, self.index2word = {}, {SOS_token: "SOS", EOS_token: "EOS"}

    def add_sentence(self, sentence):
        for word in sentence.split(" "):
            if word not in self.word2index:
                self.word2index[word] = len(self.index2word)
                self.index2word[len(self.index2word)] = word


def langs(pairs):
    input_lang, output_lang = Lang(), Lang()
    for source, target in pairs[0] + pairs[1]:
        input_lang.add_sentence(source)
        output_lang.add_sentence(target)
    return input_lang, output_lang


def indexes(torch, lang, sentences):
    """The sentences' word indexes with EOS, zero-padded to MAX_LENGTH, as one [N, MAX_LENGTH] long tensor."""
    ids = np.zeros((len(sentences), MAX_LENGTH), dtype=np.int64)
    for row, sentence in enumerate(sentences):
        words = [lang.word2index[w] for w in sentence.split(" ")] + [EOS_token]
        ids[row, :len(words)] = words
    return torch.from_numpy(ids)


def train(torch, nets, pairs, lang_pair, epochs=6, batch_size=32, lr=3e-3, teacher_forcing_ratio=0.5,
          shuffle=True, seed=1, clip=1.0):
    """Returns (the epochs' mean losses, the held-out loss under teacher forcing, the held-out greedy decodings'
    exact-match rate, the decoded sentences, the attention weights of the first held-out sentence)."""
    nn = torch.nn
    torch.manual_seed(seed)
    coin = random.Random(seed)
    device = torch.device("cpu")
    encoder, decoder = nets["encoder"].to(device), nets["decoder"].to(device)
    input_lang, output_lang = lang_pair
    (train_pairs, test_pairs) = pairs
    inputs = indexes(torch, input_lang, [s for s, _ in train_pairs])
    targets = indexes(torch, output_lang, [t for _, t in train_pairs])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(inputs, targets), batch_size=batch_size,
                                         shuffle=shuffle)
    encoder_optimizer = torch.optim.Adam(encoder.parameters(), lr=lr)
    decoder_optimizer = torch.optim.Adam(decoder.parameters(), lr=lr)
    criterion = nn.NLLLoss()

    def loss_of(input_tensor, target_tensor, teacher_forcing):
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden,
                                        target_tensor if teacher_forcing else None)
        return criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))

    losses = []
    for epoch in range(epochs):
        encoder.train()
        decoder.train()
        total_loss = 0
        for input_tensor, target_tensor in loader:
            input_tensor, target_tensor = input_tensor.to(device), target_tensor.to(device)
            encoder_optimizer.zero_grad()
            decoder_optimizer.zero_grad()
            loss = loss_of(input_tensor, target_tensor, coin.random() < teacher_forcing_ratio)
            loss.backward()
            nn.utils.clip_grad_norm_(encoder.parameters(), clip)
            nn.utils.clip_grad_norm_(decoder.parameters(), clip)
            encoder_optimizer.step()
            decoder_optimizer.step()
            total_loss += loss.item()
        losses.append(total_loss / len(loader))

    encoder.eval()
    decoder.eval()
    test_inputs = indexes(torch, input_lang, [s for s, _ in test_pairs]).to(device)
    test_targets = indexes(torch, output_lang, [t for _, t in test_pairs]).to(device)
    with torch.no_grad():
        test_loss = loss_of(test_inputs, test_targets, True).item()
        encoder_outputs, encoder_hidden = encoder(test_inputs)
        decoder_outputs, _, attentions = decoder(encoder_outputs, encoder_hidden)
        _, topi = decoder_outputs.topk(1)
        decoded_ids = topi.squeeze(-1)
    decoded = []
    for row in decoded_ids.tolist():
        words = []
        for idx in row:
            if idx == EOS_token:
                break
            words.append(output_lang.index2word[idx])
        decoded.append(" ".join(words))
    exact = float(np.mean([d == t for d, (_, t) in zip(decoded, test_pairs)]))
    return losses, test_loss, exact, decoded, attentions[0].cpu().numpy()
