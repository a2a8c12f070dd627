"""One module per method; `hdr_keras.registry` maps method names to builders."""
