from cnn_edge.cli import app

app(prog_name="cnn-edge")
