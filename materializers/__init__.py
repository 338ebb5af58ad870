"""Safe materializers. Importing this package registers them with ZenML."""

from materializers.artifacts import (
    AgentMaterializer,
    GameWrapperMaterializer,
    ReplayBufferMaterializer,
)
from materializers.exported import OnnxModelMaterializer, SavedModelMaterializer
from materializers.keras_model import KerasModelMaterializer
from materializers.media import GifMaterializer, PngMaterializer
from materializers.safe_pickle import (
    CorruptArtifactError,
    RestrictedUnpickler,
    UnsafeArtifactError,
)

__all__ = [
    "AgentMaterializer",
    "CorruptArtifactError",
    "GameWrapperMaterializer",
    "GifMaterializer",
    "KerasModelMaterializer",
    "OnnxModelMaterializer",
    "PngMaterializer",
    "ReplayBufferMaterializer",
    "RestrictedUnpickler",
    "SavedModelMaterializer",
    "UnsafeArtifactError",
]
