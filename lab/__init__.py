"""The application: the main job, the report's reproduction and the ``tinygrad-hw`` command.

The top of the layers: ``lab`` uses ``viz`` (drawings) and ``tinygrad_hw`` (the
engine, networks, training and replay); neither of them imports ``lab``.
"""
