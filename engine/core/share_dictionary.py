"""The preset dictionary of experiment strings, format 1 (engine/core/share.py): text that the compressor
may refer back to, so that a string spends few characters on what most experiments say. It holds the
descriptions of the presets shipped when the format was made, the options of the choice settings, and the
default config as compact JSON, the defaults last (the nearest, so the cheapest to refer to).

Frozen: every format-1 string needs these exact bytes to be read back. Never edit it; a new dictionary is a new
format (and tests/test_share.py checks its digest). It is data, not the current presets or defaults: an experiment
that says something else only compresses less.
"""

from __future__ import annotations

FORMAT_1 = (
    "Train and test: 80% of the circles trains the model, 20% is locked away and scores it once, at "
    "the end. With no validation split nothing watches generalization during training.\n"
    "Train, validation and test (4:3:3): validation watches every epoch and picks the best one; test "
    "stays untouched until the end and confirms the choice.\n"
    "k-fold cross-validation on the 150 iris flowers: five trainings, each scored on the fifth of "
    "the data it did not train on. One split can be lucky; five say how much the score varies.\n"
    "Epochs, batches and iterations: 1,000 training samples in batches of 20 make 50 iterations per "
    "epoch, so 10 epochs are 500 updates. Watch the plan before the first step.\n"
    "The batch size trade-off: in the same 10 epochs, batches of 16 make 380 small, noisy updates, "
    "full-batch gradient descent makes 10 smooth ones.\n"
    "The last batch: 1,000 samples in batches of 64 are 15 full batches and 40 left over. drop_last "
    "trains on the 15 full ones only; without it the 40 make a 16th, smaller batch.\n"
    "A perceptron cannot fit XOR: one straight line cannot separate opposite corners, so accuracy "
    "stays near 50%. A hidden layer bends the boundary and solves it.\n"
    "A circle inside a ring: no straight line separates them, so a perceptron fails; a hidden layer "
    "of 8 units draws a closed boundary around the inner circle.\n"
    "Layers without a non-linearity collapse into one: an MLP of two hidden layers with the linear "
    "activation is still one straight line, and fails on the circles like a perceptron.\n"
    "Two interleaved spiral arms: a narrow single hidden layer cannot follow them; three hidden "
    "layers of 32 trace both arms.\n"
    "Vanishing gradients: eight sigmoid layers deep, the gradient shrinks at every layer on its way "
    "back, and the first layers barely learn. The layers view shows it; ReLU fixes it.\n"
    "Batch normalization as the cure: the same eight sigmoid layers, each normalized over the batch, "
    "keep their gradients alive and learn.\n"
    "Momentum: plain SGD steps along each batch's gradient and crawls; with momentum 0.9 the steps "
    "accumulate speed in the directions the batches agree on.\n"
    "Adam scales each weight's step by the size of its recent gradients: at the same learning rate "
    "it gets much further in the same epochs than plain SGD.\n"
    "A learning rate far too high: every update overshoots the minimum, and the loss ends above that "
    "of a model that learned nothing.\n"
    "A learning rate far too low: the loss creeps down so slowly that the run ends long before the "
    "model has learned.\n"
    "A learning-rate schedule: a step size that is good early is too large late, and the loss keeps "
    "bouncing. A cosine schedule shrinks the steps towards the end and the curves settle.\n"
    "Input normalization: breast_cancer's 30 features range from about 0.001 to 2,500. Without "
    "scaling, plain SGD follows the largest feature; scaled to mean 0 and std 1, every feature "
    "counts.\n"
    "Min-max scaling: the 13 wine measurements range from about 0.1 to 1,700; scaled to [0, 1] "
    "(fitted on the training split only) they train a network that raw values cannot.\n"
    "Overfitting: a wide MLP with no regularization, trained long on 60 noisy moons. Training loss "
    "keeps falling while validation loss turns and rises.\n"
    "Dropout as the cure: the same wide MLP on the same few noisy moons as overfit-small-data, with "
    "90% of the hidden units dropped at each step. The generalization gap stays small.\n"
    "L2 as the cure: the same wide MLP on the same few noisy moons as overfit-small-data, with a "
    "penalty on large weights. The boundary stays smooth and validation loss stays down.\n"
    "L1 and sparsity: an L1 penalty pushes weights to exactly zero. On the overfitting setup it "
    "prunes most of the network's weights, which the layers view shows, and cures the overfitting "
    "too.\n"
    "Weight decay: AdamW shrinks every weight by lr x weight_decay at each update, apart from the "
    "gradient. With 150 full-batch updates at lr 0.003 it takes a weight_decay of 10 to matter.\n"
    "Early stopping: the overfitting setup, watched by a patience of 20 epochs. Training stops once "
    "validation loss has not improved for 20 epochs and the best weights are restored.\n"
    "Fewer epochs: the overfitting setup stopped after 30 epochs, before the network has had time to "
    "memorize the noise.\n"
    "More data: the same wide network and 100 epochs, but 6,000 noisy moons instead of 300 (1,200 to "
    "train on instead of 60). There is too much to memorize.\n"
    "Data augmentation: each epoch the 60 training points are jittered by gaussian noise (std 0.5 in "
    "standardized units), so the network never sees exactly the same point twice.\n"
    "Regression and the classic overfitting curve: a wide MLP fits 20 noisy points of a sine wave, "
    "first the trend, then the noise. Watch the fitted curve start to wiggle through every training "
    "point.\n"
    "A small convolutional network reads 1,797 real handwritten 8x8 digits: two conv blocks and a "
    "linear layer reach about 98% test accuracy in seconds, with fewer weights than an MLP.\n"
    "Memory over time: a ±1 signal marked early in the sequence must be remembered through 40 noisy "
    "steps. The LSTM's gates learn to store it (accuracy jumps from chance to 100%); a plain RNN "
    "stays at chance, its gradients vanishing over the lag.\n"
    "The GRU, a lighter gated cell (two gates instead of three), remembers the marked signal through "
    "40 noisy steps as well as the LSTM does.\n"
    "Forecasting: from a window of 20 past values of a noisy sine, an LSTM predicts the next one. "
    "The noise sets a ceiling: nobody predicts the noise.\n"
    "Generation by reconstruction: an autoencoder squeezes each 8x8 digit through an 8-number code "
    "and rebuilds it. Watch the reconstructions sharpen epoch by epoch.\n"
    "A variational autoencoder learns a smooth code for handwritten digits: new digits come out when "
    "random codes are decoded. The loss is reconstruction plus the KL divergence to N(0, I).\n"
    "Transfer learning, step 1: an MLP learns a noisy spiral from 2,000 points (1,200 to train on). "
    "Its hidden layers now compute features that follow the arms; the next lesson reuses them.\n"
    "Transfer learning, step 2: a new spiral data set of the same kind with only 40 labelled points. "
    "The network starts from the weights of transfer-pretrain with its hidden layers frozen: only "
    "the output layer learns.\n"
    '["moons","circles","xor","spiral","blobs","sine","plane","bump","iris","wine","breast_cancer",'
    '"diabetes","digits","mnist","fashion_mnist","csv","numpy","image_folder","sine_forecast",'
    '"memory","perceptron","mlp","cnn","rnn","lstm","gru","autoencoder","vae","relu","tanh",'
    '"sigmoid","gelu","leaky_relu","linear","auto","cross_entropy","bce","mse","mae","huber",'
    '"classification","regression","generation","forecasting","sgd","adamw","rmsprop","step",'
    '"cosine","plateau","full","cuda","bf16","minmax","none","drop","mean","processes","batched"]\n'
    '{"name":"experiment","description":"","task":"classification","loss":"auto",'
    '"data":{"dataset":"moons","n_samples":null,"noise":0.2,"n_classes":null,"seq_len":20,'
    '"path":null,"target":null,"features":null,"missing":"refuse","channels":1,"image_size":28,'
    '"seed":0,"train":0.6,"val":0.2,"test":0.2,"classes":null,"k_folds":null,'
    '"normalization":"zscore"},"model":{"architecture":"mlp","hidden":[16,16],"activation":"relu",'
    '"conv_channels":[16,32],"kernel_size":3,"rnn_hidden":32,"rnn_layers":1,"latent":8,'
    '"init_from":"","freeze":[]},"regularization":{"l1":0.0,"l2":0.0,"weight_decay":0.0,'
    '"dropout":0.0,"batch_norm":false,"early_stopping":false,"patience":10,"min_delta":0.0,'
    '"restore_best":true,"augment_noise":0.0,"augment_shift":0,"grad_clip":0.0},'
    '"optimizer":{"kind":"adam","lr":0.01,"momentum":0.9,"nesterov":false,"schedule":"constant",'
    '"step_size":30,"gamma":0.5,"plateau_patience":5},"training":{"epochs":50,"batch_size":32,'
    '"drop_last":false,"seed":0,"device":"auto","precision":"fp32","eval_every":1,"snapshot_every":5,'
    '"step_every":0,"threads":0,"deterministic":false},"sweep":{"seeds":1,"parameter":"none",'
    '"values":[],"mode":"auto"}}'
).encode()
FORMAT_1_SHA256 = "7d47288c63821142ca041730c8ad4ef71f1c331180bdf4beda5c004c46fc2fd7"
