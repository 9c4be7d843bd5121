"""The network: the CNN and its training (:mod:`.cnn`) and the bundle that carries a trained
network with its feature settings (:mod:`.bundle`)."""
