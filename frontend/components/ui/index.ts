export { Alert, type AlertProps, type AlertTone } from "./Alert";
export { Button, type ButtonProps } from "./Button";
export { Card, type CardProps } from "./Card";
export { Dialog, type DialogProps } from "./Dialog";
export { EmptyState, type EmptyStateProps } from "./EmptyState";
export { ProgressBar, type ProgressBarProps } from "./ProgressBar";
export { Spinner, type SpinnerProps } from "./Spinner";
export { TextField, type TextFieldProps } from "./TextField";
export { buttonClasses, cardClasses, cx, inputClasses, linkClasses, type ButtonSize, type ButtonVariant } from "./variants";
