"""Face analysis: landmarks and pose (MediaPipe), identity (dlib), tracking over time."""
