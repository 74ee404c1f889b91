"""How tests/data/onnx/torch_export.onnx was made: PyTorch 2.13.0's TorchScript exporter (opset 17) on a
small net with a MobileNet-style stem and blocks (BatchNorm folded into the convs by the exporter), a
projection shortcut, global pooling and an FC, nn.MultiheadAttention (4 heads) and an nn.LSTM (5 steps).
Run with torch installed: python tests/data/onnx/make_torch_export.py (writes /tmp/pp/torchnet.onnx).
"""
import torch, torch.nn as nn
class Block(nn.Module):
    def __init__(s, ci, co, st):
        super().__init__()
        s.dw = nn.Sequential(nn.Conv2d(ci, ci, 3, st, 1, groups=ci, bias=False), nn.BatchNorm2d(ci), nn.ReLU6())
        s.pw = nn.Sequential(nn.Conv2d(ci, co, 1, bias=False), nn.BatchNorm2d(co), nn.ReLU6())
    def forward(s, x): return s.pw(s.dw(x))
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
        s.b = nn.Sequential(Block(32, 64, 1), Block(64, 128, 2))
        s.proj = nn.Conv2d(32, 128, 1, 2)
        s.fc = nn.Linear(128, 10)
        s.att = nn.MultiheadAttention(32, 4, batch_first=True)
        s.lstm = nn.LSTM(8, 16)
    def forward(s, x, seq):
        y = s.stem(x)
        z = s.b(y) + s.proj(y)
        z = nn.functional.adaptive_avg_pool2d(z, 1).flatten(1)
        t = y.flatten(2).transpose(1, 2)[:, :10]
        a, _ = s.att(t, t, t)
        h, _ = s.lstm(seq)
        return s.fc(z), a, h
m = Net().eval()
torch.onnx.export(m, (torch.randn(1, 3, 32, 32), torch.randn(5, 2, 8)), "/tmp/pp/torchnet.onnx", opset_version=17, dynamo=False)
print("exported")
