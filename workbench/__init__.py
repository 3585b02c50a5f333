"""SFT Workbench's core: everything the pages, the command line and the helper processes share.

Layers, top to bottom (a package imports only from layers below it, or from itself; ``tests/test_architecture.py``
holds the list):

    cli                                         the command line (app_pages/ is the web app, beside this package)
    planning · results · chat                   before a run, after a run, talking to a run
    serving                                     the model server and its OpenAI-compatible API
    jobs                                        the queue, fair order, the runner, job control
    training                                    the training process
    evaluation                                  what counts as a right answer; scoring a model
    data                                        datasets, validation, the library
    runs                                        the run-directory protocol and its files
    models                                      loading models, devices, chat templates, generation, the demo
    schedule                                    held-out split, steps and cadence
    config · team · limits                      the typed run config; who is asking and what they may do
    database                                    opening the SQLite files
    errors · paths · words · charts             the floor
"""
